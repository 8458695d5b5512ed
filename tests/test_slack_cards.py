"""One Slack message per commit, kept current, against a fake Slack Web API over HTTP."""

from __future__ import annotations

import copy
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from correlation.blocks import card_fingerprint, render_superseded
from devexbot.app import create_app
from devexbot.publish.outbox import OutboxPolicy, card_message
from devexbot.services import Services
from devexbot.store import Card, Notification
from tests.conftest import GITHUB_SECRET
from tests.fakes.slack_api import FakeSlack
from tests.github_sender import GitHubSender, load_fixture
from tests.scenario import HEAD, REPO, check_run_stream, commit_stream
from tests.slack_app import DEFAULT_CHANNEL, slack_services, wait_for

NEXT = "4f7e1c0d8b2a9e6f3c5d7a1b0e9f8c2d4a6b8e0f"
PEOPLE = "people:\n  ana: U0ANA\n  ben: U0BEN\n"
BY_NAME = "routes:\n  - repos: [octo-org/*]\n    channel: '#deploys'\n"


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


def card_row(services: Services, sha: str = HEAD) -> Card:
    with services.db.read() as session:
        card = session.scalar(select(Card).where(Card.repo == REPO, Card.sha == sha))
        assert card is not None
        return card


def settled(services: Services, sha: str = HEAD) -> Card | None:
    """The card once Slack shows its latest state (posted, not dirty, not claimed)."""
    card = card_row(services, sha)
    return card if card.slack_ts and not card.dirty and card.claim_token is None else None


def expected_render(services: Services, card: Card) -> Any:
    return card_message(services.card_loader.load(card), services.config)


def top_level_posts(fake: FakeSlack) -> list[Any]:
    return [c for c in fake.calls("chat.postMessage") if c.ok and not c.params.get("thread_ts")]


def strip_block_ids(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in b.items() if k != "block_id"} for b in blocks]


@pytest.fixture
def bot(database_url: str, tmp_path: Path, fake_slack: FakeSlack) -> Iterator[Services]:
    services = slack_services(database_url, tmp_path, fake_slack.base_url, config=PEOPLE)
    yield services
    services.db.dispose()


@pytest.fixture
def running(bot: Services) -> Iterator[TestClient]:
    """The app with its outbox worker running (the lifespan starts it)."""
    with TestClient(create_app(services=bot)) as client:
        yield client


def test_a_burst_of_25_events_becomes_one_post_and_a_few_updates(
    database_url: str, tmp_path: Path, fake_slack: FakeSlack
) -> None:
    # The production coalescing policy, not the fast one the other tests use.
    bot = slack_services(database_url, tmp_path, fake_slack.base_url, config=PEOPLE,
                         policy=OutboxPolicy())
    with TestClient(create_app(services=bot)) as client:
        _burst_into_one_message(bot, client, fake_slack)
    bot.db.dispose()


def _burst_into_one_message(bot: Services, running: TestClient, fake_slack: FakeSlack) -> None:
    github = GitHubSender(running, GITHUB_SECRET)
    for event, payload in burst():  # ~2 s of deliveries
        assert github.deliver(event, payload).status_code == 202
        time.sleep(0.08)
    last_event_at = time.time()
    card = wait_for(lambda: settled(bot), what="the card to settle")

    assert len(top_level_posts(fake_slack)) == 1
    updates = [c for c in fake_slack.calls("chat.update") if c.ok]
    assert len(updates) <= 5, f"{len(updates)} updates for one commit"
    final = fake_slack.final_message(card.slack_channel, card.slack_ts)
    expected = expected_render(bot, card)
    assert final.text == expected.text
    assert strip_block_ids(final.blocks) == strip_block_ids(expected.blocks)
    assert card.render_hash == card_fingerprint(expected)
    assert fake_slack.post_rate_violations() == []
    final_at = max(v.at for v in final.history) if final.history else last_event_at
    print(f"\nSlack calls for the 25-event burst: 1 chat.postMessage, {len(updates)} "
          f"chat.update; final {final_at - last_event_at:+.2f}s after the last event")


def test_rate_limits_and_server_errors_during_a_burst_lose_nothing(
    bot: Services, running: TestClient, fake_slack: FakeSlack
) -> None:
    fake_slack.fail_next("chat.postMessage", status=500)
    github = GitHubSender(running, GITHUB_SECRET)
    deliveries = burst()
    for event, payload in deliveries[:5]:
        github.deliver(event, payload)
    wait_for(lambda: card_row(bot).slack_ts, what="the first post, after a 500")
    fake_slack.fail_next("chat.update", times=2, status=429, retry_after=1)
    fake_slack.fail_next("chat.update", status=503)
    for event, payload in deliveries[5:]:
        github.deliver(event, payload)
        time.sleep(0.04)
    wait_for(lambda: len([c for c in fake_slack.calls("chat.update") if c.fault]) == 3,
             what="the scripted update failures")
    card = wait_for(lambda: settled(bot), what="the card to settle despite 429s and 5xx")
    assert len(top_level_posts(fake_slack)) == 1
    assert sorted(c.status for c in fake_slack.calls() if c.fault) == [429, 429, 500, 503]
    final = fake_slack.final_message(card.slack_channel, card.slack_ts)
    assert final.text == expected_render(bot, card).text
    assert strip_block_ids(final.blocks) == strip_block_ids(expected_render(bot, card).blocks)


def test_a_restart_between_ingest_and_flush_converges_without_a_second_post(
    database_url: str, tmp_path: Path, fake_slack: FakeSlack
) -> None:
    first = slack_services(database_url, tmp_path, fake_slack.base_url, config=PEOPLE)
    deliveries = burst()
    # Without the `with`, no lifespan: ingest works, the outbox never runs ("killed").
    github = GitHubSender(TestClient(create_app(services=first)), GITHUB_SECRET)
    for event, payload in deliveries[:12]:
        assert github.deliver(event, payload).status_code == 202
    first.db.dispose()
    assert fake_slack.calls("chat.postMessage") == []

    second = slack_services(database_url, tmp_path, fake_slack.base_url, config=PEOPLE)
    with TestClient(create_app(services=second)) as client:
        github = GitHubSender(client, GITHUB_SECRET)
        for event, payload in deliveries[12:]:
            github.deliver(event, payload)
        card = wait_for(lambda: settled(second), what="the card after a restart")
    assert len(top_level_posts(fake_slack)) == 1
    final = fake_slack.final_message(card.slack_channel, card.slack_ts)
    assert final.text == expected_render(second, card).text


def test_a_post_that_timed_out_after_slack_took_it_is_found_not_repeated(
    bot: Services, fake_slack: FakeSlack
) -> None:
    # Slack takes the message but the answer never arrives in time (client timeout 10 s
    # is shortened here): the card must adopt that message, not post a second one.
    assert bot.slack_client is not None
    bot.slack_client.timeout = 1
    fake_slack.hang_next("chat.postMessage", 3)
    GitHubSender(TestClient(create_app(services=bot)), GITHUB_SECRET).deliver(
        "check_run", load_fixture("check_run.completed"))
    assert bot.outbox is not None
    wait_for(lambda: bot.outbox.flush() and card_row(bot).post_started_at, timeout=10,
             what="a timed-out post")
    time.sleep(2.5)  # the hung answer is dropped; the next try looks before it posts
    wait_for(lambda: bot.outbox.flush() is not None and settled(bot), what="recovery")
    posted = [m for m in fake_slack.messages(card_row(bot).slack_channel)]
    assert len(posted) == 1
    assert card_row(bot).slack_ts == posted[0].ts


def lose_the_first_post(bot: Services, fake_slack: FakeSlack) -> None:
    """One card whose first post Slack takes but whose answer times out."""
    assert bot.slack_client is not None and bot.outbox is not None
    bot.slack_client.timeout = 1
    fake_slack.hang_next("chat.postMessage", 3)
    GitHubSender(TestClient(create_app(services=bot)), GITHUB_SECRET).deliver(
        "check_run", load_fixture("check_run.completed"))
    outbox = bot.outbox
    wait_for(lambda: outbox.flush() and card_row(bot).post_started_at, timeout=10,
             what="a timed-out post")
    time.sleep(2.5)  # the hung answer is dropped; the next try looks before it posts


def recover(bot: Services) -> Card:
    outbox = bot.outbox
    assert outbox is not None
    card: Card = wait_for(lambda: outbox.flush() is not None and settled(bot),
                          what="recovery")
    return card


def test_a_lost_post_to_a_channel_a_route_names_is_found_by_the_channels_id(
    database_url: str, tmp_path: Path, fake_slack: FakeSlack
) -> None:
    # Slack's conversations.history takes IDs only: looking in `#deploys` would fail
    # and the card would be posted twice.
    deploys = fake_slack.add_channel("deploys")
    bot = slack_services(database_url, tmp_path, fake_slack.base_url, config=BY_NAME,
                         slack_default_channel=None)
    lose_the_first_post(bot, fake_slack)
    assert card_row(bot).slack_channel == deploys  # marked by ID before posting
    card = recover(bot)
    (posted,) = fake_slack.messages(deploys)
    assert len(top_level_posts(fake_slack)) == 1
    assert (card.slack_channel, card.slack_ts) == (deploys, posted.ts)
    assert {c.params["channel"] for c in fake_slack.calls("conversations.history")} == {deploys}
    assert {c.params["channel"] for c in fake_slack.calls("chat.postMessage")} == {deploys}
    bot.db.dispose()


def test_a_rate_limited_channel_listing_defers_the_card_then_posts_it_by_id(
    database_url: str, tmp_path: Path, fake_slack: FakeSlack
) -> None:
    deploys = fake_slack.add_channel("deploys")
    fake_slack.fail_next("conversations.list", status=429, retry_after=1)
    bot = slack_services(database_url, tmp_path, fake_slack.base_url, config=BY_NAME,
                         slack_default_channel=None)
    with TestClient(create_app(services=bot)) as client:
        GitHubSender(client, GITHUB_SECRET).deliver("check_run",
                                                    load_fixture("check_run.completed"))
        card = wait_for(lambda: settled(bot), what="the card, after the Retry-After")
    first, second = fake_slack.calls("conversations.list")
    assert (first.status, second.status) == (429, 200)
    assert second.monotonic - first.monotonic >= 1
    assert [c.params["channel"] for c in fake_slack.calls("chat.postMessage")] == [deploys]
    assert card.slack_channel == deploys
    bot.db.dispose()


def test_a_rate_limited_lookup_waits_and_looks_again_instead_of_posting(
    bot: Services, fake_slack: FakeSlack
) -> None:
    lose_the_first_post(bot, fake_slack)
    fake_slack.fail_next("conversations.history", status=429, retry_after=1)
    card = recover(bot)
    first, second = fake_slack.calls("conversations.history")
    assert (first.status, second.status) == (429, 200)
    assert second.monotonic - first.monotonic >= 1  # after the Retry-After
    (posted,) = fake_slack.messages(card.slack_channel)
    assert len(top_level_posts(fake_slack)) == 1 and card.slack_ts == posted.ts


def test_a_failing_lookup_backs_off_and_looks_again_instead_of_posting(
    bot: Services, fake_slack: FakeSlack
) -> None:
    lose_the_first_post(bot, fake_slack)
    fake_slack.fail_next("conversations.history", status=503)
    card = recover(bot)
    assert [c.status for c in fake_slack.calls("conversations.history")] == [503, 200]
    (posted,) = fake_slack.messages(card.slack_channel)
    assert len(top_level_posts(fake_slack)) == 1 and card.slack_ts == posted.ts


def test_a_lost_post_in_a_channel_the_bot_may_not_read_joins_it_to_look(
    bot: Services, fake_slack: FakeSlack
) -> None:
    # chat:write.public lets the bot post in a public channel it is not in; reading the
    # channel's history takes membership.
    lose_the_first_post(bot, fake_slack)
    fake_slack.remove_bot(DEFAULT_CHANNEL)
    card = recover(bot)
    # No second attempt: FakeSlack refuses a non-member's post, Slack takes it.
    assert len(fake_slack.calls("chat.postMessage")) == 1
    assert [c.error for c in fake_slack.calls("conversations.history")] == [
        "not_in_channel", None]
    assert [c.params["channel"] for c in fake_slack.calls("conversations.join")] == [
        DEFAULT_CHANNEL]
    (posted,) = fake_slack.messages(DEFAULT_CHANNEL)
    assert len(top_level_posts(fake_slack)) == 1 and card.slack_ts == posted.ts


def test_two_flushers_racing_on_one_database_post_once(
    database_url: str, tmp_path: Path, fake_slack: FakeSlack
) -> None:
    bots = [slack_services(database_url, tmp_path, fake_slack.base_url) for _ in range(2)]
    github = GitHubSender(TestClient(create_app(services=bots[0])), GITHUB_SECRET)
    shas = [f"{i:040x}" for i in range(1, 6)]
    for sha in shas:
        payload = copy.deepcopy(load_fixture("check_run.completed"))
        payload["check_run"]["head_sha"] = sha
        github.deliver("check_run", payload)
    time.sleep(1.1)  # past the coalescing window, so every card is due at once

    start = threading.Barrier(2)

    def flush(services: Services) -> None:
        start.wait()
        deadline = time.monotonic() + 15  # each flusher posts ~1/s to the channel
        while time.monotonic() < deadline and len(top_level_posts(fake_slack)) < len(shas):
            assert services.outbox is not None
            services.outbox.flush()
            time.sleep(0.05)
        assert services.outbox is not None
        services.outbox.flush()

    threads = [threading.Thread(target=flush, args=(b,)) for b in bots]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    posts = top_level_posts(fake_slack)
    assert len(posts) == len(shas)
    assert sorted(p.params["metadata"]["event_payload"]["sha"] for p in posts) == shas
    for services in bots:
        services.db.dispose()


def test_a_superseded_head_collapses_to_one_line_linking_the_new_message(
    bot: Services, running: TestClient, fake_slack: FakeSlack
) -> None:
    github = GitHubSender(running, GITHUB_SECRET)
    github.deliver("pull_request", load_fixture("pull_request.opened"))
    old = wait_for(lambda: settled(bot), what="the first head's card")
    github.deliver("pull_request", load_fixture("pull_request.synchronize"))
    new = wait_for(lambda: settled(bot, NEXT), what="the new head's card")

    def collapsed() -> Any:
        message = fake_slack.final_message(old.slack_channel, old.slack_ts)
        return message if "superseded by" in message.text and "→" in str(message.blocks) \
            else None

    message = wait_for(collapsed, what="the old card to collapse with a link")
    link = fake_slack.calls("chat.getPermalink")[-1].response["permalink"]
    assert len(message.blocks) == 1
    assert link in str(message.blocks) and new.slack_ts.replace(".", "") in link
    old_card = card_row(bot)
    folded = bot.card_loader.load(old_card)
    assert message.text == render_superseded(folded, new_sha=NEXT, new_message_link=link).text


def test_a_failure_mentions_the_author_once_however_often_it_is_delivered(
    bot: Services, running: TestClient, fake_slack: FakeSlack
) -> None:
    github = GitHubSender(running, GITHUB_SECRET)
    github.deliver("push", load_fixture("push"))
    failure = load_fixture("check_run.completed.failure")
    for _ in range(3):  # three deliveries (GitHub retries, redeliveries) of one failure
        github.deliver("check_run", failure, delivery_id=str(uuid.uuid4()))
        time.sleep(0.2)
    card = wait_for(lambda: settled(bot), what="the failing card")
    time.sleep(0.5)
    bot.outbox.flush()  # type: ignore[union-attr]
    replies = fake_slack.thread(card.slack_channel, card.slack_ts)[1:]
    assert len(replies) == 1
    assert replies[0].text.startswith("<@U0ANA>")
    assert "test" in str(replies[0].blocks)
    assert "2 tests failed" in str(replies[0].blocks)
    with bot.db.read() as session:
        keys = sorted(session.scalars(select(Notification.key)))
    assert len(keys) == 2 and keys[0].startswith("failure:github:check-run:")
    assert keys[1].startswith("failure:github:check:test:")


def test_a_failing_check_with_a_very_long_name_is_still_told_once(
    bot: Services, running: TestClient, fake_slack: FakeSlack
) -> None:
    # Its reply's key outgrew the notifications column: PostgreSQL refused the insert, and
    # the card's flush failed every time.
    github = GitHubSender(running, GITHUB_SECRET)
    github.deliver("push", load_fixture("push"))
    failure = load_fixture("check_run.completed.failure")
    failure["check_run"]["name"] = "integration / " + "x" * 300
    for _ in range(2):
        github.deliver("check_run", failure, delivery_id=str(uuid.uuid4()))
    card = wait_for(lambda: settled(bot), what="the failing card")
    bot.outbox.flush()  # type: ignore[union-attr]
    replies = fake_slack.thread(card.slack_channel, card.slack_ts)[1:]
    assert len(replies) == 1
    with bot.db.read() as session:
        keys = sorted(session.scalars(select(Notification.key)))
    assert len(keys) == 2 and all(len(key) <= 255 for key in keys)
    assert keys[1].startswith("failure:github:check:integration / xxx")


def test_a_deployment_waiting_for_approval_asks_the_reviewers_once(
    bot: Services, running: TestClient, fake_slack: FakeSlack
) -> None:
    github = GitHubSender(running, GITHUB_SECRET)
    github.deliver("push", load_fixture("push"))
    review = load_fixture("deployment_review.requested")
    # Waiting from now: a request that has expired by the time it is published asks nobody.
    review["since"] = review["workflow_run"]["updated_at"] = datetime.now(UTC).strftime(
        "%Y-%m-%dT%H:%M:%SZ")
    for _ in range(2):
        github.deliver("deployment_review", review)
    card = wait_for(lambda: settled(bot), what="the waiting card")
    replies = fake_slack.thread(card.slack_channel, card.slack_ts)[1:]
    assert len(replies) == 1
    assert "<@U0BEN>" in replies[0].text and "production" in replies[0].text


def test_a_card_no_route_takes_is_never_posted(
    database_url: str, tmp_path: Path, fake_slack: FakeSlack
) -> None:
    config = ("routes:\n  - repos: [octo-org/*]\n    channel: C0APP\n    branches: [main]\n"
              "    exclude_branches: [dependabot/*]\n")
    services = slack_services(database_url, tmp_path, fake_slack.base_url, config=config,
                              slack_default_channel=None)
    with TestClient(create_app(services=services)) as client:
        github = GitHubSender(client, GITHUB_SECRET)
        github.deliver("push", load_fixture("push"))  # feature/login: not main
        dependabot = copy.deepcopy(load_fixture("push"))
        dependabot.update(ref="refs/heads/dependabot/pip/requests-2.32",
                          after="d" * 40)
        dependabot["head_commit"]["id"] = "d" * 40
        github.deliver("push", dependabot)
        main = copy.deepcopy(load_fixture("push"))
        main.update(ref="refs/heads/main", after="a" * 40)
        github.deliver("push", main)
        wait_for(lambda: settled(services, "a" * 40), what="the main branch card")
        time.sleep(1.2)
        assert services.outbox is not None
        services.outbox.flush()
    assert [m.channel for m in fake_slack.messages("C0APP")] == ["C0APP"]
    assert len(top_level_posts(fake_slack)) == 1
    assert card_row(services).slack_ts is None and not card_row(services).dirty
    services.db.dispose()


def test_a_pr_head_route_takes_the_pr_even_off_its_branches(
    database_url: str, tmp_path: Path, fake_slack: FakeSlack
) -> None:
    config = ("routes:\n  - repos: [octo-org/octo-app]\n    channel: C0PRS\n"
              "    branches: [main]\n    pull_requests: true\n")
    services = slack_services(database_url, tmp_path, fake_slack.base_url, config=config,
                              slack_default_channel=None)
    with TestClient(create_app(services=services)) as client:
        GitHubSender(client, GITHUB_SECRET).deliver("pull_request",
                                                    load_fixture("pull_request.opened"))
        card = wait_for(lambda: settled(services), what="the PR head card")
    assert card.slack_channel == "C0PRS"
    services.db.dispose()


def test_a_deleted_message_is_posted_again(
    bot: Services, running: TestClient, fake_slack: FakeSlack
) -> None:
    github = GitHubSender(running, GITHUB_SECRET)
    github.deliver("check_run", load_fixture("check_run.queued"))
    first = wait_for(lambda: settled(bot), what="the first post")
    fake_slack.client(token=bot.settings.slack_bot_token.get_secret_value()).chat_delete(  # type: ignore[union-attr]
        channel=first.slack_channel, ts=first.slack_ts)
    github.deliver("check_run", load_fixture("check_run.completed"))
    again = wait_for(lambda: (c := settled(bot)) and c.slack_ts != first.slack_ts and c,
                     what="a new post")
    assert fake_slack.final_message(again.slack_channel, again.slack_ts).text.startswith("✅")


def test_slack_messages_show_in_the_card_json(
    bot: Services, running: TestClient
) -> None:
    GitHubSender(running, GITHUB_SECRET).deliver("check_run", load_fixture("check_run.queued"))
    card = wait_for(lambda: settled(bot), what="the card to post")
    assert running.get(f"/api/cards/{REPO}/{HEAD}").json()["slack"] == {
        "channel": DEFAULT_CHANNEL, "ts": card.slack_ts, "pending": False}


def test_check_runs_only_fill_one_card(bot: Services, running: TestClient,
                                       fake_slack: FakeSlack) -> None:
    github = GitHubSender(running, GITHUB_SECRET)
    for event, payload in check_run_stream():
        github.deliver(event, payload)
    wait_for(lambda: settled(bot), what="the card")
    assert len(top_level_posts(fake_slack)) == 1


def test_a_route_can_also_dm_the_author_on_failure(
    database_url: str, tmp_path: Path, fake_slack: FakeSlack
) -> None:
    fake_slack.add_user("U0ANA", "ana", email="ana@example.com")
    config = ("routes:\n  - repos: [octo-org/*]\n    channel: C0APP\n"
              "    dm_author_on_failure: true\n")  # no people map: found by e-mail
    services = slack_services(database_url, tmp_path, fake_slack.base_url, config=config)
    with TestClient(create_app(services=services)) as client:
        github = GitHubSender(client, GITHUB_SECRET)
        github.deliver("push", load_fixture("push"))
        github.deliver("check_run", load_fixture("check_run.completed.failure"))
        card = wait_for(lambda: settled(services), what="the failing card")
        wait_for(lambda: fake_slack.messages("D0ANA"), what="the DM")
    thread = fake_slack.thread(card.slack_channel, card.slack_ts)
    assert len(thread) == 2 and thread[1].text.startswith("<@U0ANA>")
    (dm,) = fake_slack.messages("D0ANA")
    assert "test" in dm.text and "<@" not in dm.text
    assert [c.params["email"] for c in fake_slack.calls("users.lookupByEmail")] == [
        "ana@example.com"]  # looked up once, then cached
    services.db.dispose()
