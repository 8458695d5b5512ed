"""A channel that wants one message per pull request (`per: pull_request`): the PR has one
top-level message, updated in place to its current head's card; each earlier head's final
card is a reply in its thread, and so are failure replies and the merge commit's card.
A per-commit channel that takes the same repo keeps one message per commit."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from devexbot.publish.outbox import card_message
from tests.bot import BotFactory, SteppedClock, TestBot, flush_together
from tests.fakes.slack_api import FakeSlack
from tests.fakes.slack_models import Message
from tests.github_sender import load_fixture
from tests.scenario import HEAD, REPO

A, B = HEAD, "4f7e1c0d8b2a9e6f3c5d7a1b0e9f8c2d4a6b8e0f"  # the fixtures' first two heads
C = "7c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f6a7b8c9d"
MERGE = "9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b"  # pull_request.closed's merge commit
TEAM = "C0TEAM"
CONFIG = ("people:\n  ana: U0ANA\n"
          "permissions:\n  subscribe: [U0ANA]\n"
          f"routes:\n  - {{repos: ['{REPO}'], channel: '#prs', per: pull_request}}\n")


@pytest.fixture
def clock() -> SteppedClock:
    """The bots' clock: Friday 2026-11-20 at 10:40 UTC, just after the fixtures' events and
    inside the working hours nudges keep, whatever the hour the tests run at."""
    return SteppedClock(start=datetime(2026, 11, 20, 10, 40, tzinfo=UTC))


def start(make_bot: BotFactory, slack: FakeSlack) -> tuple[TestBot, str]:
    """A bot whose config posts the repo per pull request to #prs; #team subscribed to it
    per commit."""
    prs = slack.add_channel("prs")
    bot = make_bot(config=CONFIG, slack_default_channel=None)
    answer = bot.slack_sender.command("/devex", f"subscribe {REPO}", channel_id=TEAM,
                                      channel_name="team", user_id="U0ANA").json()["text"]
    assert "(every commit)" in answer
    return bot, prs


def opened() -> dict[str, Any]:
    return load_fixture("pull_request.opened")  # head A, 10:00:30


def sync(before: str, after: str, at: str) -> dict[str, Any]:
    payload = copy.deepcopy(load_fixture("pull_request.synchronize"))
    payload["before"], payload["after"] = before, after
    payload["pull_request"]["head"]["sha"] = after
    payload["pull_request"]["updated_at"] = at
    return payload


def b_pushed() -> dict[str, Any]:
    return sync(A, B, "2026-11-20T10:20:00Z")


def c_pushed() -> dict[str, Any]:
    return sync(B, C, "2026-11-20T10:25:00Z")


def merged() -> dict[str, Any]:
    payload = copy.deepcopy(load_fixture("pull_request.closed"))  # merged at 10:30
    payload["pull_request"]["head"]["sha"] = C
    return payload


def failed(sha: str) -> dict[str, Any]:
    payload = copy.deepcopy(load_fixture("check_run.completed.failure"))
    payload["check_run"]["head_sha"] = sha
    payload["check_run"]["check_suite"]["head_sha"] = sha
    return payload


def text_of(bot: TestBot, sha: str) -> str:
    card = bot.services.card_loader.load(bot.card(sha))
    return card_message(card, bot.services.config.policies()).text


def sha_of(message: Message) -> str:
    assert message.metadata is not None
    return str(message.metadata["event_payload"]["sha"])


def the_pr_message(slack: FakeSlack, channel: str) -> tuple[Message, list[Message]]:
    """The channel's only top-level message as it stands, and its replies."""
    (top,) = slack.messages(channel)
    return slack.final_message(channel, top.ts), slack.thread(channel, top.ts)[1:]


def test_three_pushes_make_one_message_with_the_earlier_heads_in_its_thread(
    make_bot: BotFactory, slack: FakeSlack
) -> None:
    bot, prs = start(make_bot, slack)
    for delivery in (opened(), b_pushed(), c_pushed()):
        bot.deliver("pull_request", delivery)
        bot.settle()
    top, replies = the_pr_message(slack, prs)
    assert sha_of(top) == A  # posted with the first head, updated in place since
    assert top.text == text_of(bot, C)
    assert [r.text for r in replies] == [text_of(bot, A), text_of(bot, B)]
    for reply, newer in zip(replies, (B, C), strict=True):
        assert f"Superseded by `{newer[:7]}`" in str(reply.blocks)
        assert not any(b["type"] == "actions" for b in reply.blocks)  # history: no buttons
    # The per-commit channel keeps a message per commit, the earlier ones collapsed.
    assert [sha_of(m) for m in slack.messages(TEAM)] == [A, B, C]

    # The card JSON lists each message: the head's is the PR's, the others reply to it.
    doc = bot.client.get(f"/api/cards/{REPO}/{C}").json()
    assert {"channel": prs, "ts": top.ts, "pending": False} in doc["slack_messages"]
    old = bot.client.get(f"/api/cards/{REPO}/{A}").json()
    assert {"channel": prs, "ts": replies[0].ts, "pending": False,
            "thread_ts": top.ts} in old["slack_messages"]

    # A failure is replied in the PR's thread; the merge updates the message, and the
    # merge commit's card (which links the PR) is a reply too: nothing else in #prs.
    bot.deliver("check_run", failed(C))
    bot.settle()
    top, replies = the_pr_message(slack, prs)
    assert "test" in replies[2].text and "<@U0ANA>" in replies[2].text
    bot.deliver("pull_request", merged())
    bot.settle()
    top, replies = the_pr_message(slack, prs)
    assert top.text == text_of(bot, C) and "merged" in str(top.blocks).lower()
    assert sha_of_reply(bot, replies[3]) == MERGE
    assert len(replies) == 4 and len(slack.messages(prs)) == 1
    assert not slack.post_rate_violations()


def sha_of_reply(bot: TestBot, reply: Message) -> str:
    """Which card a reply is: the one whose JSON lists it."""
    for sha in (A, B, C, MERGE):
        response = bot.client.get(f"/api/cards/{REPO}/{sha}")
        listed = response.json()["slack_messages"] if response.status_code == 200 else []
        if any(m["ts"] == reply.ts for m in listed):
            return sha
    raise AssertionError(f"no card lists {reply.ts}")


def test_pushes_in_quick_succession_post_the_last_head_and_thread_the_others(
    make_bot: BotFactory, slack: FakeSlack
) -> None:
    bot, prs = start(make_bot, slack)
    for delivery in (opened(), b_pushed(), c_pushed()):
        bot.deliver("pull_request", delivery)
    bot.settle()
    top, replies = the_pr_message(slack, prs)
    assert sha_of(top) == C and top.text == text_of(bot, C)
    assert sorted(r.text for r in replies) == sorted([text_of(bot, A), text_of(bot, B)])
    assert [sha_of(m) for m in slack.messages(TEAM)] == [C]  # replaced before it was seen
    assert not slack.post_rate_violations()


def test_an_older_heads_late_events_do_not_take_the_message_back(
    make_bot: BotFactory, slack: FakeSlack
) -> None:
    bot, prs = start(make_bot, slack)
    bot.deliver("pull_request", opened())
    bot.settle()
    # C's push arrives before B's: A does not know yet that it was replaced.
    bot.deliver("pull_request", c_pushed())
    bot.settle()
    top, replies = the_pr_message(slack, prs)
    assert top.text == text_of(bot, C)
    assert sorted(r.text for r in replies) == sorted([text_of(bot, A), text_of(bot, B)])
    # A's news (a check) and B's late push arrive: they stay in the thread.
    bot.deliver("check_run", failed(A))
    bot.deliver("pull_request", b_pushed())
    bot.settle()
    top, replies = the_pr_message(slack, prs)
    assert top.text == text_of(bot, C)
    assert len(replies) == 2 and len(slack.messages(prs)) == 1
    a_reply = next(r for r in replies if sha_of_reply(bot, r) == A)
    assert a_reply.text == text_of(bot, A)  # kept current in the thread
    assert f"Superseded by `{B[:7]}`" in str(a_reply.blocks)


def test_a_subscription_per_pull_request_beside_the_config_route(
    make_bot: BotFactory, slack: FakeSlack
) -> None:
    bot, prs = start(make_bot, slack)
    answer = bot.slack_sender.command(
        "/devex", f"subscribe {REPO} per:pull_request", channel_id="C0PRS2",
        channel_name="prs2", user_id="U0ANA").json()["text"]
    assert "(every commit; one message per pull request)" in answer
    for delivery in (opened(), b_pushed()):
        bot.deliver("pull_request", delivery)
        bot.settle()
    for channel in (prs, "C0PRS2"):
        top, replies = the_pr_message(slack, channel)
        assert top.text == text_of(bot, B) and [r.text for r in replies] == [text_of(bot, A)]
    assert len(slack.messages(TEAM)) == 2


APPROVING = CONFIG + "approvals:\n  production:\n    approvers: [U0ANA]\n"


def test_decisions_on_the_merge_commit_are_asked_in_the_pull_requests_thread(
    make_bot: BotFactory, slack: FakeSlack
) -> None:
    prs = slack.add_channel("prs")
    bot = make_bot(config=APPROVING, slack_default_channel=None)
    for event, delivery in (("pull_request", opened()), ("pull_request", b_pushed()),
                            ("pull_request", c_pushed()), ("pull_request", merged())):
        bot.deliver(event, delivery)
        bot.settle()
    response = bot.deploy.send({"repository": REPO, "sha": MERGE, "environment": "production",
                                "status": "waiting", "deployment_id": "p-1",
                                "timestamp": bot.clock.now().strftime("%Y-%m-%dT%H:%M:%SZ")})
    assert response.status_code == 202, response.text
    bot.settle()
    top, replies = the_pr_message(slack, prs)
    (request,) = [r for r in replies if "waiting for your approval" in r.text]
    assert "<@U0ANA>" in request.text and request.thread_ts == top.ts
    bot.clock.advance(3 * 3600)
    assert "approval nudges: 1" in bot.run_job("nudges")
    top, replies = the_pr_message(slack, prs)
    assert "production" in replies[-1].text and replies[-1].thread_ts == top.ts
    assert len(slack.messages(prs)) == 1

    # Once it runs there, `/devex where` links to the merge commit's reply in that thread.
    response = bot.deploy.send({"repository": REPO, "sha": MERGE, "environment": "production",
                                "status": "success", "deployment_id": "p-1",
                                "timestamp": bot.clock.now().strftime("%Y-%m-%dT%H:%M:%SZ")})
    assert response.status_code == 202, response.text
    bot.settle()
    merge_reply = bot.card(MERGE)
    answer = bot.slack_sender.command("/devex", f"where {REPO}", channel_id=TEAM,
                                      user_id="U0ANA", team_domain="octo").json()["text"]
    assert (f"<https://octo.slack.com/archives/{prs}/p{merge_reply.slack_ts.replace('.', '')}"
            f"?thread_ts={top.ts}&amp;cid={prs}|card>") in answer  # & escaped, as Slack asks


def pushed(before: str, after: str) -> dict[str, Any]:
    payload = copy.deepcopy(load_fixture("push"))
    payload["before"], payload["after"] = before, after
    payload["head_commit"]["id"] = after
    payload["head_commit"]["timestamp"] = "2026-11-20T10:24:00Z"
    payload["commits"] = [payload["head_commit"]]
    return payload


def test_a_push_arriving_before_its_pr_event_waits_for_it(
    make_bot: BotFactory, slack: FakeSlack
) -> None:
    bot, prs = start(make_bot, slack)
    for delivery in (opened(), b_pushed()):
        bot.deliver("pull_request", delivery)
        bot.settle()
    # GitHub sends the push and the PR's `synchronize` together; the push comes first.
    bot.deliver("push", pushed(B, C))
    bot.clock.advance(5)
    bot.flush()
    assert len(slack.messages(prs)) == 1 and len(slack.messages(TEAM)) == 3  # #team: C
    bot.deliver("pull_request", c_pushed())
    bot.settle()
    top, replies = the_pr_message(slack, prs)
    assert top.text == text_of(bot, C) and len(replies) == 2


def test_a_push_whose_pr_event_is_late_is_posted_as_a_commit_then_moves_in(
    make_bot: BotFactory, slack: FakeSlack
) -> None:
    bot, prs = start(make_bot, slack)
    bot.deliver("pull_request", opened())
    bot.settle()
    bot.deliver("push", pushed(A, C))
    bot.settle()  # steps past the wait
    pr_message, own = slack.messages(prs)
    assert [sha_of(pr_message), sha_of(own)] == [A, C]
    # The PR's event comes at last: C's card moves into the PR's message, and its own
    # message collapses to a line saying where it went.
    bot.deliver("pull_request", sync(A, C, "2026-11-20T10:25:00Z"))
    bot.settle()
    assert slack.final_message(prs, pr_message.ts).text == text_of(bot, C)
    left = slack.final_message(prs, own.ts)
    assert left.text.endswith("is now in #12's message") and len(left.blocks) == 1
    assert [r.text for r in slack.thread(prs, pr_message.ts)[1:]] == [text_of(bot, A)]


def test_a_rate_limited_reply_waits_out_retry_after_and_lands_once_in_the_thread(
    make_bot: BotFactory, slack: FakeSlack
) -> None:
    bot, prs = start(make_bot, slack)
    bot.deliver("pull_request", opened())
    bot.settle()
    bot.deliver("pull_request", b_pushed())
    slack.fail_next("chat.postMessage", status=429, retry_after=30)
    bot.clock.advance(2)
    bot.flush()
    bot.clock.advance(20)
    bot.flush()
    top, replies = the_pr_message(slack, prs)
    # #prs keeps Retry-After (A's reply was refused); #team is not held up by it.
    assert replies == [] and len(slack.messages(TEAM)) == 2
    bot.settle()
    top, replies = the_pr_message(slack, prs)
    assert top.text == text_of(bot, B) and [r.text for r in replies] == [text_of(bot, A)]
    assert not slack.post_rate_violations()


def test_two_flushers_racing_keep_one_message_per_pull_request(
    make_bot: BotFactory, slack: FakeSlack
) -> None:
    bot, prs = start(make_bot, slack)
    other = make_bot(config=CONFIG, slack_default_channel=None)
    for delivery in (opened(), b_pushed(), c_pushed()):
        bot.deliver("pull_request", delivery)
        for _ in range(4):
            bot.clock.advance(timedelta(seconds=1))
            flush_together(bot, other)
    bot.settle()
    top, replies = the_pr_message(slack, prs)
    assert top.text == text_of(bot, C)
    assert sorted(r.text for r in replies) == sorted([text_of(bot, A), text_of(bot, B)])


def test_a_force_push_back_to_an_earlier_head_shows_it_again(
    make_bot: BotFactory, slack: FakeSlack
) -> None:
    bot, prs = start(make_bot, slack)
    for delivery in (opened(), b_pushed(), sync(B, A, "2026-11-20T10:22:00Z")):
        bot.deliver("pull_request", delivery)
        bot.settle()
    top, replies = the_pr_message(slack, prs)
    assert top.text == text_of(bot, A)
    # A's earlier reply stays as it was; B's final card joins the thread.
    assert len(replies) == 2 and sha_of_reply(bot, replies[-1]) == B
    assert replies[-1].text == text_of(bot, B)
    assert len(slack.messages(prs)) == 1


def test_a_commit_pushed_before_its_pr_was_opened_makes_its_message_the_prs(
    make_bot: BotFactory, slack: FakeSlack
) -> None:
    bot, prs = start(make_bot, slack)
    bot.deliver("push", pushed("0" * 40, A))
    bot.settle()
    (first,) = slack.messages(prs)
    for delivery in (opened(), b_pushed()):
        bot.deliver("pull_request", delivery)
        bot.settle()
    top, replies = the_pr_message(slack, prs)
    assert top.ts == first.ts and top.text == text_of(bot, B)
    assert [r.text for r in replies] == [text_of(bot, A)]


@pytest.mark.sqlite_only
def test_an_earlier_heads_reply_whose_answer_was_lost_is_found_in_the_thread(
    make_bot: BotFactory, slack: FakeSlack
) -> None:
    prs = slack.add_channel("prs")
    bot = make_bot(config=CONFIG, slack_default_channel=None)
    bot.deliver("pull_request", opened())
    bot.settle()
    # B's push: A's card goes into the PR's thread, but that answer comes too late. (The
    # PR's message, posted with A's card, carries A's metadata too: it is not the reply.)
    assert bot.services.slack_client is not None
    timeout = bot.services.slack_client.timeout
    bot.services.slack_client.timeout = 0.2  # type: ignore[assignment]
    slack.hang_next("chat.postMessage", 0.4)
    bot.deliver("pull_request", b_pushed())
    bot.clock.advance(2)
    bot.flush()
    slack.wait_for_calls("chat.postMessage", 2)
    bot.services.slack_client.timeout = timeout
    bot.settle()
    top, replies = the_pr_message(slack, prs)
    assert top.text == text_of(bot, B)
    assert [r.text for r in replies] == [text_of(bot, A)]  # once, not twice
    assert slack.calls("conversations.replies")


def test_a_pr_message_whose_answer_was_lost_is_found_not_posted_twice(
    make_bot: BotFactory, slack: FakeSlack
) -> None:
    prs = slack.add_channel("prs")
    bot = make_bot(config=CONFIG, slack_default_channel=None)
    # The PR's message reaches Slack, but its answer comes after the client gave up.
    assert bot.services.slack_client is not None
    bot.services.slack_client.timeout = 0.2  # type: ignore[assignment]
    slack.hang_next("chat.postMessage", 0.4)
    bot.deliver("pull_request", opened())
    bot.clock.advance(2)
    bot.flush()
    slack.wait_for_calls("chat.postMessage", 1)
    bot.settle()
    (first,) = slack.messages(prs)
    bot.deliver("pull_request", b_pushed())
    bot.settle()
    top, replies = the_pr_message(slack, prs)
    assert top.ts == first.ts and top.text == text_of(bot, B)
    assert [r.text for r in replies] == [text_of(bot, A)]


def test_the_merge_queue_is_told_in_the_pull_requests_message_and_thread(
    make_bot: BotFactory, slack: FakeSlack
) -> None:
    """GitHub's merge queue tests the PR on a queue commit of its own; in a per-PR channel
    its news is the PR's current head's, so it stays in the PR's message and thread."""
    bot, prs = start(make_bot, slack)
    for delivery in (opened(), b_pushed()):
        bot.deliver("pull_request", delivery)
        bot.settle()
    for event, name in [("merge_group", "merge_group.checks_requested"),
                        ("check_run", "check_run.completed.merge_queue.failure")]:
        bot.deliver(event, load_fixture(name))
    bot.settle()
    top, replies = the_pr_message(slack, prs)
    assert "In the merge queue since" in str(top.blocks) and top.text == text_of(bot, B)
    assert [r.text for r in replies[:1]] == [text_of(bot, A)]
    (failure,) = replies[1:]
    assert failure.text.startswith("<@U0ANA>") and "merge queue: test" in str(failure.blocks)
    bot.deliver("merge_group", load_fixture("merge_group.destroyed.merged"))
    bot.settle()
    top, replies = the_pr_message(slack, prs)
    assert "Merged by the merge queue" in str(top.blocks)
    assert len(replies) == 2 and len(slack.messages(prs)) == 1  # the queue commit: no message
