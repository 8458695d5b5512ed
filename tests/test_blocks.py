"""The card renderer: CommitCard → Block Kit, validated with slack_sdk, within Slack's limits."""

from __future__ import annotations

import copy
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from correlation import fold
from correlation.blocks import (
    STATUS_EMOJI,
    SlackMessage,
    card_fingerprint,
    render_card,
    render_superseded,
)
from correlation.card import Approval, PullRequest
from correlation.github import parse_github
from correlation.mrkdwn import escape
from correlation.status import Status
from tests.cards import NEW_SHA, SHA, button, card, cards, check, deployment
from tests.github_sender import load_fixture
from tests.scenario import commit_stream
from tests.slack_limits import all_text, assert_valid_message, texts, utf16_len

S, F, R, W, P = Status.SUCCESS, Status.FAILURE, Status.RUNNING, Status.WAITING, Status.PENDING


def lines(message: SlackMessage) -> list[str]:
    """Every line of every section and context text, in order."""
    return [line for b in message.blocks for _, t in texts(b) for line in t.split("\n")]


def sections_text(message: SlackMessage) -> str:
    return "\n".join(lines(message))


# --- the reference scenario ---------------------------------------------------------------

def scenario_card() -> Any:
    arrived = datetime(2026, 11, 21, tzinfo=UTC)
    return fold(e for t, p in commit_stream() for e in parse_github(t, p, received_at=arrived))


def test_scenario_card_renders_as_the_issue_describes() -> None:
    message = render_card(scenario_card())
    assert_valid_message(message)
    assert message.text == (
        "❌ octo-org/octo-app feature/login 6dcb09b: 1 of 4 checks failed (test) — Add login page"
    )
    assert message.blocks[0] == {
        "type": "header",
        "text": {"type": "plain_text", "text": "❌ octo-org/octo-app · feature/login",
                 "emoji": True},
    }
    assert lines(message) == [
        "❌ octo-org/octo-app · feature/login",
        f"<https://github.com/octo-org/octo-app/commit/{SHA}|6dcb09b> *Add login page*",
        "by Ana Lima (ana)",
        "🔀 <https://github.com/octo-org/octo-app/pull/12|#12 Add login page> · open"
        " · review: pending",
        # failures first, then the rest in card order
        "❌ <https://ci.octo-app.example.com/builds/103|test> — test: failure",
        "✅ <https://ci.octo-app.example.com/builds/101|build> — build: success",
        "✅ <https://jenkins.octo-app.example.com/job/octo-app/job/feature%2Flogin/7/|ci/jenkins>"
        " — Build #7 succeeded in 2m 30s",
        "✅ <https://ci.octo-app.example.com/builds/102|lint> — lint: success",
        "✅ *<https://staging.octo-app.example.com|staging>* deployed"
        " · Deployed 6dcb09b to staging",
        "🎫 <https://github.com/octo-org/octo-app/issues/9|#9>",  # "Closes #9." in the PR
    ]


def test_every_status_has_its_own_emoji() -> None:
    assert set(STATUS_EMOJI) == set(Status)
    assert len(set(STATUS_EMOJI.values())) == len(Status)


# --- checks: few, many, grouped -----------------------------------------------------------

def test_few_checks_are_listed_one_per_line_failures_first() -> None:
    c = card(checks=(check("build"), check("lint", R), check("test", F, summary="3 failed"),
                     check("docs", Status.SKIPPED)))
    assert lines(render_card(c))[3:] == [
        "❌ <https://ci.example.com/test|test> — 3 failed",
        "🔄 <https://ci.example.com/lint|lint>",
        "✅ <https://ci.example.com/build|build>",
        "⏭️ <https://ci.example.com/docs|docs>",
    ]


def test_many_checks_collapse_passing_ones_into_a_count() -> None:
    passing = tuple(check(f"unit-{i:02}") for i in range(12))
    c = card(checks=(*passing, check("ci/test", F, summary="2 tests failed")))
    message = render_card(c)
    assert_valid_message(message)
    assert lines(message)[3:] == [
        "❌ 12 checks passed, 1 failed: ci/test",
        "❌ <https://ci.example.com/ci/test|ci/test> — 2 tests failed",
    ]
    assert "unit-03" not in sections_text(message)


def test_many_checks_list_running_and_waiting_ones_after_failures() -> None:
    c = card(checks=(*(check(f"c{i}") for i in range(9)), check("deploy-gate", W),
                     check("e2e", R), check("lint", F), check("old", Status.CANCELLED),
                     check("skip", Status.SKIPPED)))
    assert lines(render_card(c))[3:] == [
        "❌ 9 checks passed, 1 running, 1 waiting, 1 cancelled, 1 skipped, 1 failed: lint",
        "❌ <https://ci.example.com/lint|lint>",
        "✋ <https://ci.example.com/deploy-gate|deploy-gate>",
        "🔄 <https://ci.example.com/e2e|e2e>",
        "🚫 <https://ci.example.com/old|old>",
    ]


def test_a_workflow_with_many_jobs_is_one_line_naming_the_failed_jobs() -> None:
    jobs = [check(f"CI / {n}", S, kind="job", details={"run_id": 7})
            for n in ("build", "lint", "docs", "unit")]
    failed = check("CI / e2e", F, kind="job", details={"run_id": 7}, summary="failed at: Run")
    workflow = check("CI", F, kind="workflow", details={"run_id": 7})
    message = render_card(card(checks=(workflow, *jobs, failed, check("ci/jenkins"))))
    assert lines(message)[3:] == [
        "❌ <https://ci.example.com/CI|CI> — 4 jobs passed, 1 failed:"
        " <https://ci.example.com/CI-/-e2e|e2e>",
        "✅ <https://ci.example.com/ci/jenkins|ci/jenkins>",
    ]
    # The workflow is told by its jobs: 5 jobs + 1 status count, not 7.
    assert "1 of 6 checks failed (CI / e2e)" in message.text


def test_jobs_from_githubs_payloads_group_under_their_workflow_run() -> None:
    arrived = datetime(2026, 11, 21, tzinfo=UTC)
    job = load_fixture("workflow_job.completed")
    deliveries = [("workflow_run", load_fixture("workflow_run.completed")), ("workflow_job", job)]
    for i, name in enumerate(["lint", "unit", "docs", "e2e"]):
        more = copy.deepcopy(job)
        more["workflow_job"].update(id=1000 + i, name=name, check_run_url=None,
                                    conclusion="failure" if name == "e2e" else "success")
        deliveries.append(("workflow_job", more))
    c = fold(e for t, p in deliveries for e in parse_github(t, p, received_at=arrived))
    message = render_card(c)
    run = "https://github.com/octo-org/octo-app/actions/runs/30433642"
    assert lines(message)[3:] == [
        f"❌ <{run}|CI> — 3 jobs passed, 2 failed: <{run}/job/399444496|e2e>,"
        f" <{run}/job/399444496|test>",
    ]
    assert "2 of 5 checks failed (CI / e2e, CI / test)" in message.text


def test_jobs_without_their_workflow_line_group_by_workflow_name() -> None:
    jobs = tuple(check(f"Nightly / shard {i}", S if i else F, kind="job") for i in range(5))
    assert lines(render_card(card(checks=jobs)))[3:] == [
        "❌ Nightly — 4 jobs passed, 1 failed: <https://ci.example.com/Nightly-/-shard-0|shard 0>",
    ]


def test_a_workflow_with_few_jobs_keeps_one_line_each() -> None:
    c = card(checks=(check("CI", S, kind="workflow", details={"run_id": 1}),
                     check("CI / build", S, kind="job", details={"run_id": 1})))
    assert len(lines(render_card(c))[3:]) == 2


# --- pull request, deployments, tickets, notes, actions -----------------------------------

@pytest.mark.parametrize(
    ("state", "draft", "review", "expected"),
    [
        ("open", False, "approved", "· open · review: approved"),
        ("open", True, None, "· draft"),
        ("open", False, "changes_requested", "· open · review: changes requested"),
        ("merged", False, "approved", "· merged"),
        ("closed", False, None, "· closed"),
    ],
)
def test_pull_request_line(state: str, draft: bool, review: str | None, expected: str) -> None:
    pr = PullRequest(number=12, title="Add login page", state=state, draft=draft,
                     url="https://github.com/o/r/pull/12", review=review)
    line = lines(render_card(card(pull_request=pr)))[3]
    assert line == f"🔀 <https://github.com/o/r/pull/12|#12 Add login page> {expected}"


@pytest.mark.parametrize(
    ("status", "approval", "expected"),
    [
        (S, None, "✅ *<https://staging.example.com|staging>* deployed"),
        (R, None, "🔄 *<https://staging.example.com|staging>* deploying"),
        (F, None, "❌ *<https://staging.example.com|staging>* failed"),
        (W, Approval("waiting", reviewers=("ana", "ops-team")),
         "✋ *<https://staging.example.com|staging>* waiting for approval by ana, ops-team"),
        (W, Approval("waiting"), "✋ *<https://staging.example.com|staging>* waiting for approval"),
        (S, Approval("approved", by=("bob",)),
         "✅ *<https://staging.example.com|staging>* deployed · approved by bob"),
        (Status.CANCELLED, Approval("rejected", by=("bob",), comment="not <today> & not me"),
         "🚫 *<https://staging.example.com|staging>* rejected by bob:"
         " not &lt;today&gt; &amp; not me"),
    ],
)
def test_deployment_line(status: Status, approval: Approval | None, expected: str) -> None:
    c = card(deployments=(deployment("staging", status, approval=approval),))
    assert lines(render_card(c))[-1] == expected


def test_deployments_keep_card_order() -> None:
    c = card(deployments=(deployment("staging"), deployment("production", P),
                          deployment("dev", R)))
    assert [line.split("|")[1].split(">")[0] for line in lines(render_card(c))[3:]] == [
        "staging", "production", "dev"]


def test_tickets_and_notes_are_context_lines() -> None:
    c = card(tickets=({"key": "ABC-1", "url": "https://jira.example.com/ABC-1",
                       "title": "Login", "status": "In QA"},))
    message = render_card(c, notes=["Merged by @ana 14:02", "retried by <@U123> (attempt 2)"])
    assert message.blocks[-2] == {"type": "context", "elements": [
        {"type": "mrkdwn", "text": "🎫 <https://jira.example.com/ABC-1|ABC-1> Login (In QA)",
         "verbatim": True}]}
    assert [e["text"] for e in message.blocks[-1]["elements"]] == [
        "Merged by @ana 14:02", "retried by <@U123> (attempt 2)"]


def test_actions_go_last_in_blocks_of_at_most_25() -> None:
    message = render_card(card(), actions=[button(i) for i in range(40)])
    assert_valid_message(message)
    assert [b["type"] for b in message.blocks[-2:]] == ["actions", "actions"]
    assert [len(b["elements"]) for b in message.blocks[-2:]] == [25, 15]
    assert message.blocks[-1]["elements"][-1] == button(39)


def test_no_actions_no_actions_block() -> None:
    assert all(b["type"] != "actions" for b in render_card(card()).blocks)


# --- limits --------------------------------------------------------------------------------

HUGE: list[tuple[str, dict[str, Any], dict[str, Any], str]] = [
    ("200 failing checks", {"checks": tuple(check(f"t{i:03}", F) for i in range(200))}, {},
     "… +185 more"),
    ("200 mixed checks",
     {"checks": tuple(check(f"t{i:03}", (S, F, R, P)[i % 4]) for i in range(200))}, {},
     "… +135 more"),
    ("30 environments", {"deployments": tuple(deployment(f"env-{i}") for i in range(30))}, {},
     "… +10 more environments"),
    ("10k-char commit message", {"message": "x" * 10_000}, {}, "x…*"),
    ("200-char header", {"repo": "o" * 100 + "/" + "r" * 99, "branch": "b" * 100}, {}, "…"),
    ("150 action elements", {}, {"actions": [button(i) for i in range(150)]},
     "… +50 more actions"),
    ("12 notes", {}, {"notes": [f"note {i}" for i in range(12)]}, "+3 more"),
    ("9 tickets", {"tickets": tuple({"key": f"T-{i}"} for i in range(9))}, {}, "+4 more"),
    ("250 jobs in one workflow",
     {"checks": tuple(check(f"CI / j{i}", (S, F)[i % 2], kind="job") for i in range(250))}, {},
     "125 jobs passed, 125 failed"),
]


@pytest.mark.parametrize(("what", "fields", "kwargs", "more"), HUGE, ids=[h[0] for h in HUGE])
def test_huge_cards_stay_within_slack_limits_and_say_what_was_left_out(
    what: str, fields: dict[str, Any], kwargs: dict[str, Any], more: str
) -> None:
    message = render_card(card(**fields), **kwargs)
    assert_valid_message(message)
    assert more in all_text(message)


def test_a_long_header_is_cut_to_150_with_an_ellipsis() -> None:
    header = render_card(card(repo="o" * 100 + "/" + "r" * 99, branch="b" * 100)).blocks[0]
    assert utf16_len(header["text"]["text"]) == 150
    assert header["text"]["text"].endswith("…")


def test_a_long_url_is_not_linked_rather_than_cut() -> None:
    long = "https://ci.example.com/" + "a" * 2000
    assert lines(render_card(card(checks=(check("t", url=long),))))[3] == "✅ t"


# --- escaping ------------------------------------------------------------------------------

ESCAPES = [
    ("<!channel> deploy now", "&lt;!channel&gt; deploy now"),
    ("fix <@U024BE7LH>'s bug", "fix &lt;@U024BE7LH&gt;'s bug"),
    ("a & b", "a &amp; b"),
    ("<https://evil.example|click me>", "&lt;https://evil.example|click me&gt;"),
    ("already &amp; escaped", "already &amp;amp; escaped"),
]


@pytest.mark.parametrize(("raw", "escaped"), ESCAPES)
def test_user_text_is_escaped_everywhere(raw: str, escaped: str) -> None:
    pr = PullRequest(number=1, title=raw, state="open", url=None, review=None)
    c = card(message=raw, branch=raw, pull_request=pr,
             checks=(check(raw, F, summary=raw),),
             deployments=(deployment(raw, description=raw),))
    message = render_card(c)
    assert_valid_message(message)
    for line in [*lines(message)[1:], message.text]:
        if raw in line:
            pytest.fail(f"unescaped: {line}")
    assert escaped in message.text
    assert sections_text(message).count(escaped) >= 5


def test_mrkdwn_text_is_verbatim_so_slack_parses_no_mentions_of_its_own() -> None:
    message = render_card(card(checks=(check("t"),)), notes=["n"])
    objects = [b["text"] for b in message.blocks if b["type"] == "section"] + [
        e for b in message.blocks if b["type"] == "context" for e in b["elements"]]
    assert objects and all(o["verbatim"] is True for o in objects)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://ci.example.com/b?x=1&y=2", "<https://ci.example.com/b?x=1&amp;y=2|t>"),
        ("https://ci.example.com/a|b>c d", "<https://ci.example.com/a%7Cb%3Ec%20d|t>"),
        ("javascript:alert(1)", "t"),
        ("", "t"),
        (None, "t"),
    ],
)
def test_urls_are_made_safe_for_links(url: str | None, expected: str) -> None:
    assert lines(render_card(card(checks=(check("t", url=url),))))[3] == f"✅ {expected}"


# --- notification text ---------------------------------------------------------------------

NOTIFICATIONS = [
    ("failed check", {"checks": (check("build"), check("test", F))},
     "❌ octo-org/octo-app feature/login 6dcb09b: 1 of 2 checks failed (test) — Add login page"),
    ("three failed", {"checks": (check("a", F), check("b", F), check("c", F), check("d"))},
     "❌ octo-org/octo-app feature/login 6dcb09b: 3 of 4 checks failed (a, b, +1 more)"
     " — Add login page"),
    ("failed deploy", {"checks": (check("build"),), "deployments": (deployment("prod", F),)},
     "❌ octo-org/octo-app feature/login 6dcb09b: deploy to prod failed — Add login page"),
    ("waiting approval", {"deployments": (deployment("prod", W),)},
     "✋ octo-org/octo-app feature/login 6dcb09b: waiting for approval to deploy to prod"
     " — Add login page"),
    ("running", {"checks": (check("build"), check("test", R))},
     "🔄 octo-org/octo-app feature/login 6dcb09b: 1 check passed, 1 running — Add login page"),
    ("all green and deployed", {"checks": (check("build"), check("test")),
                                "deployments": (deployment("staging"),)},
     "✅ octo-org/octo-app feature/login 6dcb09b: 2 checks passed; deployed to staging"
     " — Add login page"),
    ("nothing yet", {}, "⚪ octo-org/octo-app feature/login 6dcb09b: no checks yet"
     " — Add login page"),
    ("no branch, no message", {"branch": None, "message": None},
     "⚪ octo-org/octo-app 6dcb09b: no checks yet"),
]


@pytest.mark.parametrize(("what", "fields", "expected"), NOTIFICATIONS,
                         ids=[n[0] for n in NOTIFICATIONS])
def test_notification_text(what: str, fields: dict[str, Any], expected: str) -> None:
    assert render_card(card(**fields)).text == expected


def test_notification_text_stays_short_with_a_huge_message() -> None:
    text = render_card(card(message="y" * 10_000, branch="b" * 500,
                            checks=tuple(check("n" * 300, F) for _ in range(50)))).text
    assert utf16_len(text) < 300
    assert text.endswith("…")


# --- superseded ----------------------------------------------------------------------------

def test_a_superseded_card_is_one_line_linking_the_new_message() -> None:
    message = render_superseded(scenario_card(), new_sha=NEW_SHA,
                                new_message_link="https://acme.slack.com/archives/C1/p17000")
    assert_valid_message(message)
    assert message.blocks == [{"type": "context", "elements": [{
        "type": "mrkdwn", "verbatim": True,
        "text": f"⏩ <https://github.com/octo-org/octo-app/commit/{SHA}|6dcb09b> Add login page"
                " · superseded by <https://acme.slack.com/archives/C1/p17000|4f7e1c0 →>"}]}]
    assert message.text == "⏩ octo-org/octo-app 6dcb09b superseded by 4f7e1c0"


def test_superseded_without_a_link_names_the_new_head() -> None:
    message = render_superseded(card(message="<!here> " + "z" * 5000), new_sha=NEW_SHA,
                                new_message_link=None)
    assert_valid_message(message)
    assert lines(message)[0].endswith("· superseded by 4f7e1c0")


# --- fingerprint ---------------------------------------------------------------------------

def test_fingerprint_is_stable_and_sees_every_change() -> None:
    base = card(checks=(check("build"), check("test", R)))
    first, again = render_card(base), render_card(replace(base))
    assert card_fingerprint(first) == card_fingerprint(again)
    assert len(card_fingerprint(first)) == 64
    done = replace(base, checks=(check("build"), check("test", S)), overall=S)
    assert card_fingerprint(render_card(done)) != card_fingerprint(first)
    assert card_fingerprint(render_card(base, notes=["x"])) != card_fingerprint(first)
    assert card_fingerprint(SlackMessage("t", [{"a": 1, "b": 2}])) == card_fingerprint(
        SlackMessage("t", [{"b": 2, "a": 1}]))


def test_rendering_does_not_share_the_callers_action_dicts() -> None:
    actions = [button(1)]
    message = render_card(card(), actions=actions)
    message.blocks[-1]["elements"][0]["value"] = "changed"
    assert actions[0]["value"] == "1"


# --- any card ------------------------------------------------------------------------------

@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cards(), st.integers(0, 130), st.lists(st.one_of(st.text(max_size=30),
                                                         st.just("x" * 4000)), max_size=14))
def test_any_card_renders_within_slack_limits(c: Any, n_actions: int, notes: list[str]) -> None:
    # Notes are mrkdwn the application writes, user text in them escaped as documented.
    notes = [escape(n) for n in notes] + ["retried by <@U024BE7LH>"]
    message = render_card(c, actions=[button(i) for i in range(n_actions)], notes=notes)
    assert_valid_message(message)
    assert len(message.blocks) <= 15  # what blocks.py promises, well under Slack's 50
    assert sum(len(b["elements"]) for b in message.blocks if b["type"] == "actions") == min(
        n_actions, 100)
    assert_valid_message(render_superseded(c, new_sha=NEW_SHA, new_message_link=c.url))
