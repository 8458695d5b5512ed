"""Thread replies: a failure with the telling end of its log, and an approval request."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from correlation.card import Approval
from correlation.mrkdwn import mention
from correlation.replies import log_tail, render_approval_request, render_failure_reply
from correlation.status import Status
from tests.cards import SHA, card, cards, check, deployment
from tests.slack_limits import all_text, assert_valid_message, texts, utf16_len

S, F, W = Status.SUCCESS, Status.FAILURE, Status.WAITING
COMMIT = f"<https://github.com/octo-org/octo-app/commit/{SHA}|6dcb09b>"


def section_texts(message: Any) -> list[str]:
    return [t for b in message.blocks for _, t in texts(b)]


# --- failure reply -------------------------------------------------------------------------

def test_failure_reply_mentions_the_person_and_says_what_the_payload_carried() -> None:
    failed = check(
        "test", F, summary="3 tests failed",
        details={
            "output_summary": "3 failed, 117 passed\nsee <details> & more",
            "failed_steps": ["Run tests"],
            "tests": {"failed": 3, "skipped": 2, "total": 120},
            "failed_tests": ["test_login", {"name": "test_logout", "message": "expected 200"}],
            "annotations": [{"path": "app/login.py", "start_line": 42,
                             "message": "AssertionError"}],
            "log_url": "https://ci.example.com/test/log",
        },
    )
    c = card(checks=(check("build"), failed))
    message = render_failure_reply(c, mention="U024BE7LH")
    assert_valid_message(message)
    assert message.text == "<@U024BE7LH> ❌ test failed on octo-org/octo-app 6dcb09b"
    assert section_texts(message) == [
        f"<@U024BE7LH> ❌ *test* failed on *octo-org/octo-app* `feature/login` {COMMIT}\n"
        "Add login page",
        "❌ <https://ci.example.com/test|test> — 3 tests failed\n"
        "> 3 failed, 117 passed\n"
        "> see &lt;details&gt; &amp; more\n"
        "Failed steps: Run tests\n"
        "Tests: 3 failed, 2 skipped of 120\n"
        "Failed tests:\n"
        "• `test_login`\n"
        "• `test_logout` — expected 200\n"
        "Annotations:\n"
        "• `app/login.py:42` AssertionError\n"
        "<https://ci.example.com/test/log|full log>",
    ]


def test_failure_reply_shows_the_end_of_a_long_log() -> None:
    log = "\n".join(f"step {i}" for i in range(2000)) + "\nE   AssertionError: 500 != 200\n\n"
    message = render_failure_reply(card(checks=(check("test", F),)), mention=None,
                                   log_excerpts={"test": log})
    assert_valid_message(message)
    excerpt = section_texts(message)[-1]
    assert utf16_len(excerpt) <= 3000
    assert excerpt.startswith("… (trimmed, ")
    assert excerpt.endswith("step 1999\nE   AssertionError: 500 != 200\n```")
    assert "step 0\n" not in excerpt
    dropped = int(excerpt.split("trimmed, ")[1].split(" ")[0])
    kept = excerpt.split("```\n")[1].removesuffix("\n```").split("\n")
    assert dropped + len(kept) == 2001


def test_a_failed_workflow_is_told_by_its_failed_job() -> None:
    c = card(checks=(check("CI", F, kind="workflow", details={"run_id": 1}),
                     check("CI / test", F, kind="job", details={"run_id": 1}),
                     check("CI / build", S, kind="job", details={"run_id": 1})))
    message = render_failure_reply(c, mention="ana")
    assert section_texts(message)[0].startswith("@ana ❌ *CI / test* failed on")
    assert len(message.blocks) == 2


def test_a_reply_tells_only_the_failures_it_is_given() -> None:
    # The thread already told `CI / test`; the reply owed now is about `CI / lint` alone.
    told, new = check("CI / test", F, kind="job"), check("CI / lint", F, kind="job")
    c = card(checks=(told, new, check("CI / build", S, kind="job")),
             deployments=(deployment("prod", F),))
    message = render_failure_reply(c, mention=None, checks=[new], deployments=[],
                                   log_excerpts={"CI / lint": "E lint"})
    assert section_texts(message)[0].startswith("❌ *CI / lint* failed on")
    assert "CI / test" not in all_text(message) and "prod" not in all_text(message)
    assert "E lint" in all_text(message)


def test_many_failures_are_detailed_up_to_ten_then_counted() -> None:
    c = card(checks=tuple(check(f"t{i:02}", F) for i in range(25)))
    message = render_failure_reply(c, mention="U024BE7LH",
                                   log_excerpts={f"t{i:02}": "x\n" * 5000 for i in range(25)})
    assert_valid_message(message)
    assert section_texts(message)[0].startswith("<@U024BE7LH> ❌ 25 of 25 checks failed on")
    assert "… +15 more failed: t10, t11, t12, t13, t14, +10 more" in all_text(message)
    # Every failure is listed; logs get the text left, the first failure's first.
    assert section_texts(message)[1].startswith("❌ <https://ci.example.com/t00|t00>")
    assert section_texts(message)[2].startswith("… (trimmed, ")
    assert 2 <= sum("```" in t for t in section_texts(message)) <= 5


def test_a_failed_deployment_and_a_deploy_log() -> None:
    c = card(checks=(check("build"),),
             deployments=(deployment("prod", F, description="rollout timed out"),))
    message = render_failure_reply(c, mention=None, log_excerpts={"prod": "pulling\nOOMKilled"})
    assert_valid_message(message)
    assert section_texts(message) == [
        f"❌ deploy to *prod* failed on *octo-org/octo-app* `feature/login` {COMMIT}\n"
        "Add login page",
        "❌ deploy to *<https://prod.example.com|prod>* failed — rollout timed out",
        "*prod*\n```\npulling\nOOMKilled\n```",
    ]


def test_a_log_cannot_mention_anyone_or_break_out_of_its_code_block() -> None:
    log = "ok\n<!channel> look ``` here & <@U1>"
    message = render_failure_reply(card(checks=(check("t", F),)), mention=None,
                                   log_excerpts={"t": log})
    assert_valid_message(message)
    assert section_texts(message)[-1] == (
        "```\nok\n&lt;!channel&gt; look ''' here &amp; &lt;@U1&gt;\n```")


LOGS = [
    ("short", "a\nb", "```\na\nb\n```"),
    ("blank lines around", "\n\n  \na\nb\n\n", "```\na\nb\n```"),
    ("crlf and colours", "\x1b[31mred\x1b[0m\r\nplain\r\n", "```\nred\nplain\n```"),
    ("progress bar", "10%\r50%\r100%\ndone", "```\n100%\ndone\n```"),
    ("blank", " \n\n", ""),
]


@pytest.mark.parametrize(("what", "log", "expected"), LOGS, ids=[x[0] for x in LOGS])
def test_log_tail(what: str, log: str, expected: str) -> None:
    assert log_tail(log) == expected


def test_log_tail_keeps_the_end_of_one_enormous_line() -> None:
    tail = log_tail("start " + "x" * 10_000 + " the error", limit=500)
    assert utf16_len(tail) <= 500
    assert tail.startswith("… (trimmed)\n```\n…")
    assert tail.endswith("x the error\n```")


@given(st.lists(st.text(max_size=300), max_size=300), st.integers(20, 3000))
def test_log_tail_never_exceeds_its_limit(lines: list[str], limit: int) -> None:
    assert utf16_len(log_tail("\n".join(lines), limit=limit)) <= limit


# --- approval request ----------------------------------------------------------------------

def test_approval_request_mentions_the_approvers() -> None:
    c = card(deployments=(deployment("production", W, url=None,
                                     approval=Approval("waiting", reviewers=("ops", "ana"))),))
    message = render_approval_request(c, environment="production",
                                      mentions=["U024BE7LH", "<@W0123ABC>", "S0614TZR7"])
    assert_valid_message(message)
    assert section_texts(message) == [
        f"<@U024BE7LH> <@W0123ABC> <!subteam^S0614TZR7> ✋ Deploy of *octo-org/octo-app*"
        f" `feature/login` {COMMIT} to *production* is waiting for your approval.\n"
        "Add login page",
        "Requested reviewers: ops, ana",
        "Please approve or reject the deployment.",
    ]
    assert message.text == (
        "<@U024BE7LH> <@W0123ABC> <!subteam^S0614TZR7> ✋ octo-org/octo-app 6dcb09b:"
        " deploy to production is waiting for your approval")


def test_approval_request_with_many_mentions_stays_short() -> None:
    message = render_approval_request(card(), environment="<prod>",
                                      mentions=[f"U{i:08}" for i in range(40)])
    assert_valid_message(message)
    assert "+20 more" in section_texts(message)[0]
    assert "&lt;prod&gt;" in message.text


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("U024BE7LH", "<@U024BE7LH>"),
        ("<@U024BE7LH>", "<@U024BE7LH>"),
        ("W0123ABC", "<@W0123ABC>"),
        ("S0614TZR7", "<!subteam^S0614TZR7>"),
        ("ana", "@ana"),
        ("@ana", "@ana"),
        ("<!channel>", "@&lt;!channel&gt;"),
        ("<@U024BE7LH|ana>", "@&lt;@U024BE7LH|ana&gt;"),
    ],
)
def test_mention(who: str, expected: str) -> None:
    assert mention(who) == expected


# --- any card ------------------------------------------------------------------------------

@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cards(), st.one_of(st.none(), st.text(max_size=20), st.just("U024BE7LH")),
       st.dictionaries(st.sampled_from(["test", "build", "CI / test", "prod", "x"]),
                       st.text(max_size=200).map(lambda s: s * 40), max_size=5),
       st.lists(st.text(max_size=20), max_size=30))
def test_any_card_replies_within_slack_limits(
    c: Any, who: str | None, logs: dict[str, str], mentions: list[str]
) -> None:
    for check_line in c.checks:
        logs.setdefault(check_line.name, "line\n" * 3000)
    assert_valid_message(render_failure_reply(c, mention=who, log_excerpts=logs))
    environment = c.deployments[0].environment if c.deployments else "staging"
    assert_valid_message(render_approval_request(c, environment=environment, mentions=mentions))
