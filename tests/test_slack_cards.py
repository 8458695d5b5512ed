"""One Slack message per commit, kept current, against a fake Slack Web API over HTTP.

The bot runs no outbox thread here: each test flushes and steps the clock itself (see
`tests/bot.py`), so coalescing windows, Slack's pace, `Retry-After` and back-off take no
time at all.
"""

from __future__ import annotations

import copy
import uuid
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from correlation.blocks import card_fingerprint, render_superseded
from devexbot.publish.outbox import card_message
from devexbot.store import Card, Notification
from tests.bot import DEFAULT_CHANNEL, BotFactory, TestBot, flush_together
from tests.fakes.slack_api import FakeSlack
from tests.github_sender import load_fixture
from tests.scenario import HEAD, check_run_stream, commit_stream

NEXT = "4f7e1c0d8b2a9e6f3c5d7a1b0e9f8c2d4a6b8e0f"
PEOPLE = "people:\n  ana: U0ANA\n  ben: U0BEN\n"
BY_NAME = "routes:\n  - repos: [octo-org/*]\n    channel: '#deploys'\n"
SLACK_TIMEOUT = 0.2  # seconds: the client's, shortened so that a held answer times out soon


def burst() -> list[tuple[str, dict[str, Any]]]:
    """25 deliveries for one commit: the scenario plus its workflow and a review."""
    return [
        *commit_stream(),
        ("workflow_run", load_fixture("workflow_run.requested")),
        ("workflow_run", load_fixture("workflow_run.in_progress")),
        ("workflow_run", load_fixture("workflow_run.completed.attempt2")),
        ("workflow_job", load_fixture("workflow_job.queued")),
        ("workflow_job", load_fixture("workflow_job.in_progress")),
        ("workflow_job", load_fixture("workflow_job.completed")),
        ("check_suite", load_fixture("check_suite.completed")),
        ("pull_request", load_fixture("pull_request.edited")),
        ("pull_request_review", load_fixture("pull_request_review.submitted.approved")),
    ]


def deliver_paced(bot: TestBot, deliveries: list[tuple[str, dict[str, Any]]],
                  every: float) -> None:
    """Deliveries `every` seconds apart, the outbox flushing after each as its thread does
    (ingest wakes it)."""
    for event, payload in deliveries:
        assert bot.deliver(event, payload).status_code == 202
        bot.clock.advance(every)
        bot.flush()


def is_settled(card: Card) -> bool:
    """Slack shows the card's latest state: posted, not dirty, not claimed."""
    return bool(card.slack_ts and not card.dirty and card.claim_token is None)


def settled(bot: TestBot, sha: str = HEAD) -> Card:
    bot.settle()
    card = bot.card(sha)
    assert is_settled(card), card
    return card


def expected_render(bot: TestBot, card: Card) -> Any:
    return card_message(bot.services.card_loader.load(card), bot.services.config.policies())


def top_level_posts(fake: FakeSlack) -> list[Any]:
    return [c for c in fake.calls("chat.postMessage") if c.ok and not c.params.get("thread_ts")]


def strip_block_ids(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in b.items() if k != "block_id"} for b in blocks]


@pytest.fixture
def bot(make_bot: BotFactory) -> TestBot:
    return make_bot(config=PEOPLE)


@pytest.mark.sqlite_only
def test_a_burst_of_25_events_becomes_one_post_and_a_few_updates(
    bot: TestBot, slack: FakeSlack
) -> None:
    # The production coalescing policy (the test bot's), deliveries 80 ms apart.
    deliver_paced(bot, burst(), every=0.08)
    last_event_at = bot.clock.monotonic()
    card = settled(bot)

    assert len(top_level_posts(slack)) == 1
    updates = [c for c in slack.calls("chat.update") if c.ok]
    assert len(updates) <= 5, f"{len(updates)} updates for one commit"
    final = slack.final_message(card.slack_channel, card.slack_ts)
    expected = expected_render(bot, card)
    assert final.text == expected.text
    assert strip_block_ids(final.blocks) == strip_block_ids(expected.blocks)
    assert card.render_hash == card_fingerprint(expected)
    assert slack.post_rate_violations() == []
    final_at = max(c.monotonic for c in [*top_level_posts(slack), *updates])
    print(f"\nSlack calls for the 25-event burst: 1 chat.postMessage, {len(updates)} "
          f"chat.update; final {final_at - last_event_at:+.2f}s after the last event")


@pytest.mark.sqlite_only
def test_rate_limits_and_server_errors_during_a_burst_lose_nothing(
    bot: TestBot, slack: FakeSlack
) -> None:
    slack.fail_next("chat.postMessage", status=500)
    deliveries = burst()
    deliver_paced(bot, deliveries[:5], every=0)
    bot.settle()
    assert bot.card().slack_ts, "the first post, after a 500"
    slack.fail_next("chat.update", times=2, status=429, retry_after=1)
    slack.fail_next("chat.update", status=503)
    deliver_paced(bot, deliveries[5:], every=0.04)
    card = settled(bot)
    assert len([c for c in slack.calls("chat.update") if c.fault]) == 3
    assert len(top_level_posts(slack)) == 1
    assert sorted(c.status for c in slack.calls() if c.fault) == [429, 429, 500, 503]
    final = slack.final_message(card.slack_channel, card.slack_ts)
    assert final.text == expected_render(bot, card).text
    assert strip_block_ids(final.blocks) == strip_block_ids(expected_render(bot, card).blocks)


def test_a_restart_between_ingest_and_flush_converges_without_a_second_post(
    make_bot: BotFactory, slack: FakeSlack
) -> None:
    first = make_bot(config=PEOPLE)
    deliveries = burst()
    for event, payload in deliveries[:12]:  # ingested; the outbox never runs ("killed")
        assert first.deliver(event, payload).status_code == 202
    first.close()
    assert slack.calls("chat.postMessage") == []

    second = make_bot(config=PEOPLE)
    deliver_paced(second, deliveries[12:], every=0)
    card = settled(second)
    assert len(top_level_posts(slack)) == 1
    final = slack.final_message(card.slack_channel, card.slack_ts)
    assert final.text == expected_render(second, card).text


def lose_the_first_post(bot: TestBot, slack: FakeSlack) -> None:
    """One card whose first post Slack takes but whose answer comes after the client
    gave up (its timeout, shortened here)."""
    assert bot.services.slack_client is not None
    bot.services.slack_client.timeout = SLACK_TIMEOUT  # type: ignore[assignment]
    slack.hang_next("chat.postMessage", 2 * SLACK_TIMEOUT)
    bot.deliver("check_run", load_fixture("check_run.completed"))
    bot.clock.advance(timedelta(seconds=2))
    bot.flush()
    card = bot.card()
    assert card.post_started_at is not None and card.slack_ts is None, "a timed-out post"
    slack.wait_for_calls("chat.postMessage")  # the late answer, to nobody


def recover(bot: TestBot) -> Card:
    """The next tries look for the post before posting again."""
    return settled(bot)


def test_a_post_that_timed_out_after_slack_took_it_is_found_not_repeated(
    bot: TestBot, slack: FakeSlack
) -> None:
    # Slack takes the message but the answer never arrives in time: the card must adopt
    # that message, not post a second one.
    lose_the_first_post(bot, slack)
    card = recover(bot)
    posted = slack.messages(card.slack_channel)
    assert len(posted) == 1
    assert card.slack_ts == posted[0].ts


@pytest.mark.sqlite_only
def test_a_lost_post_to_a_channel_a_route_names_is_found_by_the_channels_id(
    make_bot: BotFactory, slack: FakeSlack
) -> None:
    # Slack's conversations.history takes IDs only: looking in `#deploys` would fail
    # and the card would be posted twice.
    deploys = slack.add_channel("deploys")
    bot = make_bot(config=BY_NAME, slack_default_channel=None)
    lose_the_first_post(bot, slack)
    assert bot.card().slack_channel == deploys  # marked by ID before posting
    card = recover(bot)
    (posted,) = slack.messages(deploys)
    assert len(top_level_posts(slack)) == 1
    assert (card.slack_channel, card.slack_ts) == (deploys, posted.ts)
    assert {c.params["channel"] for c in slack.calls("conversations.history")} == {deploys}
    assert {c.params["channel"] for c in slack.calls("chat.postMessage")} == {deploys}


@pytest.mark.sqlite_only
def test_a_rate_limited_channel_listing_defers_the_card_then_posts_it_by_id(
    make_bot: BotFactory, slack: FakeSlack
) -> None:
    deploys = slack.add_channel("deploys")
    slack.fail_next("conversations.list", status=429, retry_after=1)
    bot = make_bot(config=BY_NAME, slack_default_channel=None)
    bot.deliver("check_run", load_fixture("check_run.completed"))
    card = settled(bot)
    first, second = slack.calls("conversations.list")
    assert (first.status, second.status) == (429, 200)
    assert second.monotonic - first.monotonic >= 1  # after the Retry-After
    assert [c.params["channel"] for c in slack.calls("chat.postMessage")] == [deploys]
    assert card.slack_channel == deploys


@pytest.mark.sqlite_only
def test_a_rate_limited_lookup_waits_and_looks_again_instead_of_posting(
    bot: TestBot, slack: FakeSlack
) -> None:
    lose_the_first_post(bot, slack)
    slack.fail_next("conversations.history", status=429, retry_after=1)
    card = recover(bot)
    first, second = slack.calls("conversations.history")
    assert (first.status, second.status) == (429, 200)
    assert second.monotonic - first.monotonic >= 1  # after the Retry-After
    (posted,) = slack.messages(card.slack_channel)
    assert len(top_level_posts(slack)) == 1 and card.slack_ts == posted.ts


@pytest.mark.sqlite_only
def test_a_failing_lookup_backs_off_and_looks_again_instead_of_posting(
    bot: TestBot, slack: FakeSlack
) -> None:
    lose_the_first_post(bot, slack)
    slack.fail_next("conversations.history", status=503)
    card = recover(bot)
    assert [c.status for c in slack.calls("conversations.history")] == [503, 200]
    (posted,) = slack.messages(card.slack_channel)
    assert len(top_level_posts(slack)) == 1 and card.slack_ts == posted.ts


@pytest.mark.sqlite_only
def test_a_lost_post_in_a_channel_the_bot_may_not_read_joins_it_to_look(
    bot: TestBot, slack: FakeSlack
) -> None:
    # chat:write.public lets the bot post in a public channel it is not in; reading the
    # channel's history takes membership.
    lose_the_first_post(bot, slack)
    slack.remove_bot(DEFAULT_CHANNEL)
    card = recover(bot)
    # No second attempt: FakeSlack refuses a non-member's post, Slack takes it.
    assert len(slack.calls("chat.postMessage")) == 1
    assert [c.error for c in slack.calls("conversations.history")] == [
        "not_in_channel", None]
    assert [c.params["channel"] for c in slack.calls("conversations.join")] == [
        DEFAULT_CHANNEL]
    (posted,) = slack.messages(DEFAULT_CHANNEL)
    assert len(top_level_posts(slack)) == 1 and card.slack_ts == posted.ts


def test_two_flushers_racing_on_one_database_post_once(
    make_bot: BotFactory, slack: FakeSlack
) -> None:
    bots = [make_bot() for _ in range(2)]
    shas = [f"{i:040x}" for i in range(1, 6)]
    for sha in shas:
        payload = copy.deepcopy(load_fixture("check_run.completed"))
        payload["check_run"]["head_sha"] = sha
        bots[0].deliver("check_run", payload)
    clock = bots[0].clock
    clock.advance(timedelta(seconds=2))  # past the coalescing window: every card is due
    for _ in range(2 * len(shas)):  # each flusher posts one card a second to the channel
        flush_together(*bots)
        if len(top_level_posts(slack)) == len(shas):
            break
        clock.advance(timedelta(seconds=1))
    flush_together(*bots)
    posts = top_level_posts(slack)
    assert len(posts) == len(shas)
    assert sorted(p.params["metadata"]["event_payload"]["sha"] for p in posts) == shas


@pytest.mark.sqlite_only
def test_a_superseded_head_collapses_to_one_line_linking_the_new_message(
    bot: TestBot, slack: FakeSlack
) -> None:
    bot.deliver("pull_request", load_fixture("pull_request.opened"))
    old = settled(bot)
    bot.deliver("pull_request", load_fixture("pull_request.synchronize"))
    new = settled(bot, NEXT)
    message = slack.final_message(old.slack_channel, old.slack_ts)
    assert "superseded by" in message.text and "→" in str(message.blocks)
    link = slack.calls("chat.getPermalink")[-1].response["permalink"]
    assert len(message.blocks) == 1
    assert link in str(message.blocks) and new.slack_ts.replace(".", "") in link
    old_card = bot.card()
    folded = bot.services.card_loader.load(old_card)
    assert message.text == render_superseded(folded, new_sha=NEXT, new_message_link=link).text


@pytest.mark.sqlite_only
def test_a_head_replaced_before_it_was_posted_is_never_posted(
    bot: TestBot, slack: FakeSlack
) -> None:
    bot.deliver("pull_request", load_fixture("pull_request.opened"))
    bot.deliver("pull_request", load_fixture("pull_request.synchronize"))  # before any flush
    settled(bot, NEXT)
    assert [p.params["metadata"]["event_payload"]["sha"] for p in top_level_posts(slack)] \
        == [NEXT]
    old = bot.card()
    assert old.slack_ts is None and not old.dirty


@pytest.mark.sqlite_only
def test_a_merge_queue_commit_gets_no_message_of_its_own(bot: TestBot, slack: FakeSlack) -> None:
    push = load_fixture("push")
    push["ref"] = f"refs/heads/gh-readonly-queue/main/pr-12-{HEAD}"
    bot.deliver("push", push)
    bot.settle()
    assert top_level_posts(slack) == []
    assert not bot.card().dirty


@pytest.mark.sqlite_only
def test_a_failure_mentions_the_author_once_however_often_it_is_delivered(
    bot: TestBot, slack: FakeSlack
) -> None:
    bot.deliver("push", load_fixture("push"))
    failure = load_fixture("check_run.completed.failure")
    for _ in range(3):  # three deliveries (GitHub retries, redeliveries) of one failure
        bot.deliver("check_run", failure, delivery_id=str(uuid.uuid4()))
        bot.clock.advance(0.2)
        bot.flush()
    card = settled(bot)
    bot.clock.advance(timedelta(minutes=1))
    bot.flush()
    replies = slack.thread(card.slack_channel, card.slack_ts)[1:]
    assert len(replies) == 1
    assert replies[0].text.startswith("<@U0ANA>")
    assert "test" in str(replies[0].blocks)
    assert "2 tests failed" in str(replies[0].blocks)
    with bot.services.db.read() as session:
        keys = sorted(session.scalars(select(Notification.key)))
    assert len(keys) == 2 and keys[0].startswith("failure:github:check-run:")
    assert keys[1].startswith("failure:github:check:test:")


def test_a_failing_check_with_a_very_long_name_is_still_told_once(
    bot: TestBot, slack: FakeSlack
) -> None:
    # Its reply's key outgrew the notifications column: PostgreSQL refused the insert, and
    # the card's flush failed every time.
    bot.deliver("push", load_fixture("push"))
    failure = load_fixture("check_run.completed.failure")
    failure["check_run"]["name"] = "integration / " + "x" * 300
    for _ in range(2):
        bot.deliver("check_run", failure, delivery_id=str(uuid.uuid4()))
    card = settled(bot)
    bot.flush()
    replies = slack.thread(card.slack_channel, card.slack_ts)[1:]
    assert len(replies) == 1
    with bot.services.db.read() as session:
        keys = sorted(session.scalars(select(Notification.key)))
    assert len(keys) == 2 and all(len(key) <= 255 for key in keys)
    assert keys[1].startswith("failure:github:check:integration / xxx")


@pytest.mark.sqlite_only
def test_a_deployment_waiting_for_approval_asks_the_reviewers_once(
    bot: TestBot, slack: FakeSlack
) -> None:
    bot.deliver("push", load_fixture("push"))
    review = load_fixture("deployment_review.requested")
    # Waiting from now: a request that has expired by the time it is published asks nobody.
    review["since"] = review["workflow_run"]["updated_at"] = bot.clock.now().strftime(
        "%Y-%m-%dT%H:%M:%SZ")
    for _ in range(2):
        bot.deliver("deployment_review", review)
    card = settled(bot)
    replies = slack.thread(card.slack_channel, card.slack_ts)[1:]
    assert len(replies) == 1
    assert "<@U0BEN>" in replies[0].text and "production" in replies[0].text


@pytest.mark.sqlite_only
def test_a_card_no_route_takes_is_never_posted(make_bot: BotFactory, slack: FakeSlack) -> None:
    config = ("routes:\n  - repos: [octo-org/*]\n    channel: C0APP\n    branches: [main]\n"
              "    exclude_branches: [dependabot/*]\n")
    bot = make_bot(config=config, slack_default_channel=None)
    bot.deliver("push", load_fixture("push"))  # feature/login: not main
    dependabot = copy.deepcopy(load_fixture("push"))
    dependabot.update(ref="refs/heads/dependabot/pip/requests-2.32", after="d" * 40)
    dependabot["head_commit"]["id"] = "d" * 40
    bot.deliver("push", dependabot)
    main = copy.deepcopy(load_fixture("push"))
    main.update(ref="refs/heads/main", after="a" * 40)
    bot.deliver("push", main)
    settled(bot, "a" * 40)
    bot.clock.advance(timedelta(minutes=1))
    bot.flush()
    assert [m.channel for m in slack.messages("C0APP")] == ["C0APP"]
    assert len(top_level_posts(slack)) == 1
    assert bot.card().slack_ts is None and not bot.card().dirty


@pytest.mark.sqlite_only
def test_a_pr_head_route_takes_the_pr_even_off_its_branches(make_bot: BotFactory) -> None:
    config = ("routes:\n  - repos: [octo-org/octo-app]\n    channel: C0PRS\n"
              "    branches: [main]\n    pull_requests: true\n")
    bot = make_bot(config=config, slack_default_channel=None)
    bot.deliver("pull_request", load_fixture("pull_request.opened"))
    assert settled(bot).slack_channel == "C0PRS"


@pytest.mark.sqlite_only
def test_a_deleted_message_is_posted_again(bot: TestBot, slack: FakeSlack) -> None:
    bot.deliver("check_run", load_fixture("check_run.queued"))
    first = settled(bot)
    slack.client().chat_delete(channel=first.slack_channel, ts=first.slack_ts)
    bot.deliver("check_run", load_fixture("check_run.completed"))
    again = settled(bot)
    assert again.slack_ts != first.slack_ts
    assert slack.final_message(again.slack_channel, again.slack_ts).text.startswith("✅")


@pytest.mark.sqlite_only
def test_slack_messages_show_in_the_card_json(bot: TestBot) -> None:
    bot.deliver("check_run", load_fixture("check_run.queued"))
    card = settled(bot)
    assert bot.client.get(f"/api/cards/{card.repo}/{HEAD}").json()["slack"] == {
        "channel": DEFAULT_CHANNEL, "ts": card.slack_ts, "pending": False}


@pytest.mark.sqlite_only
def test_check_runs_only_fill_one_card(bot: TestBot, slack: FakeSlack) -> None:
    deliver_paced(bot, check_run_stream(), every=0)
    settled(bot)
    assert len(top_level_posts(slack)) == 1


@pytest.mark.sqlite_only
def test_a_route_can_also_dm_the_author_on_failure(make_bot: BotFactory,
                                                   slack: FakeSlack) -> None:
    slack.add_user("U0ANA", "ana", email="ana@example.com")
    config = ("routes:\n  - repos: [octo-org/*]\n    channel: C0APP\n"
              "    dm_author_on_failure: true\n")  # no people map: found by e-mail
    bot = make_bot(config=config)
    bot.deliver("push", load_fixture("push"))
    bot.deliver("check_run", load_fixture("check_run.completed.failure"))
    card = settled(bot)
    thread = slack.thread(card.slack_channel, card.slack_ts)
    assert len(thread) == 2 and thread[1].text.startswith("<@U0ANA>")
    (dm,) = slack.messages("D0ANA")
    assert "test" in dm.text and "<@" not in dm.text
    assert [c.params["email"] for c in slack.calls("users.lookupByEmail")] == [
        "ana@example.com"]  # looked up once, then cached
