"""The scheduler's card jobs end to end: webhooks in, nudges in the card's thread on the fake
Slack, notes on the card; a controllable clock says what time the scheduler thinks it is."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from devexbot.app import create_app
from devexbot.scheduler.card_jobs import (
    Approvers,
    CardJobs,
    NoNudges,
    Nudges,
    RecentCards,
    ThreadNudges,
)
from devexbot.store import Card, Notification
from devexbot.store.cards import get_card
from devexbot.wiring import Services, build_services
from tests.bot import BotFactory, TestBot, settle
from tests.conftest import GITHUB_SECRET, make_settings
from tests.db_template import migrate
from tests.fakes.slack_api import FakeSlack
from tests.github_sender import GitHubSender, load_fixture
from tests.scenario import HEAD, REPO

BERLIN = ZoneInfo("Europe/Berlin")
CONFIG = ("people:\n  ana: U0ANA\n  ben: U0BEN\n"
          "schedule: {timezone: Europe/Berlin, working_hours: '09:00-18:00'}\n")


def berlin(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=BERLIN).astimezone(UTC)


pytestmark = pytest.mark.sqlite_only  # the jobs' decisions; their SQL is the outbox's


@pytest.fixture
def test_bot(make_bot: BotFactory) -> TestBot:
    # No background threads: the test flushes the outbox and runs the jobs itself, at its
    # own times.
    return make_bot(config=CONFIG)


@pytest.fixture
def bot(test_bot: TestBot) -> Services:
    return test_bot.services


@pytest.fixture
def fake_slack(slack: FakeSlack) -> FakeSlack:
    """The test bot's fake Slack."""
    return slack


@pytest.fixture
def github(test_bot: TestBot) -> GitHubSender:
    return test_bot.github


def card_jobs(services: Services, approvers: Approvers | None = None) -> CardJobs:
    """The card jobs of the bot's parts; without `approvers`, approval nudges mention the
    people GitHub asked."""
    nudges: Nudges = NoNudges()
    if services.outbox is not None:
        nudges = ThreadNudges(services.outbox.reply_once, services.people, services.clock,
                              approvers=approvers,
                              prefs=services.me.prefs if services.me else None)
    cards = RecentCards(services.db, services.card_loader, services.router,
                        services.config.schedule)
    return CardJobs(cards, services.config, services.ingest, nudges)


def card_row(bot: Services) -> Card:
    with bot.db.read() as session:
        card = get_card(session, REPO, HEAD)
        assert card is not None
        return card


def published(bot: Services) -> Card:
    """Flush the outbox (stepping the clock) until Slack shows the card's latest state."""
    settle(bot)
    card = card_row(bot)
    assert card.slack_ts and not card.dirty, "the card to be published"
    return card


def replies(fake: FakeSlack, bot: Services) -> list[Any]:
    card = card_row(bot)
    return fake.thread(card.slack_channel, card.slack_ts)[1:]


def test_a_review_nudge_goes_once_in_working_time_and_once_after_a_downtime(
    bot: Services, github: GitHubSender, fake_slack: FakeSlack
) -> None:
    github.deliver("pull_request", load_fixture("pull_request.opened"))  # Fri 11:00:30 Berlin
    published(bot)
    jobs = card_jobs(bot)
    assert jobs.nudge(berlin(20, 14, 55)) == "nothing due"
    assert jobs.nudge(berlin(20, 15, 5)) == "review nudges: 1"  # 4 working hours
    assert jobs.nudge(berlin(20, 15, 10)) == "nothing due"
    (nudge,) = replies(fake_slack, bot)
    assert nudge.text.startswith("<@U0BEN> 👀 octo-org/octo-app #12 Add login page: waiting 4 h")
    assert "<@U0BEN>" in str(nudge.blocks) and "Reminder 1 of 3" in str(nudge.blocks)

    # Saturday: quiet. Then the bot is down until Wednesday 11:00: one nudge, not six.
    assert jobs.nudge(berlin(21, 12)) == "nothing due"
    assert jobs.nudge(berlin(25, 11)) == "review nudges: 1"
    assert jobs.nudge(berlin(25, 11, 5)) == "nothing due"
    assert [r.text.split(":")[-1] for r in replies(fake_slack, bot)] == [
        " waiting 4 h for a review", " waiting 26 h for a review"]
    with bot.db.read() as session:
        keys = session.scalars(select(Notification.key).where(Notification.key.like("nudge:%")))
        assert sorted(keys) == ["nudge:review:12:2026-11-20T10:00:30Z:1",
                                "nudge:review:12:2026-11-20T10:00:30Z:6"]


def test_a_review_nudge_waits_while_the_reviewer_is_in_quiet_hours(
    test_bot: TestBot, bot: Services, github: GitHubSender, fake_slack: FakeSlack
) -> None:
    fake_slack.add_user("U0BEN", "ben", tz="Europe/Berlin")
    answer = test_bot.slack_sender.command("/devex", "me quiet 14:00-16:00", user_id="U0BEN",
                                           channel_id="C0TEAM").json()["text"]
    assert "14:00-16:00" in answer
    github.deliver("pull_request", load_fixture("pull_request.opened"))  # Fri 11:00:30 Berlin
    published(bot)
    jobs = card_jobs(bot)
    # Due at 15:00 (4 working hours), in ben's quiet hours: it waits for him.
    assert jobs.nudge(berlin(20, 15, 5)) == "nudges waiting for quiet hours to end: 1"
    assert replies(fake_slack, bot) == []
    assert jobs.nudge(berlin(20, 16, 5)) == "review nudges: 1"
    (nudge,) = replies(fake_slack, bot)
    assert nudge.text.startswith("<@U0BEN> 👀")


def test_a_pr_marked_ready_later_counts_from_then(
    bot: Services, github: GitHubSender, fake_slack: FakeSlack
) -> None:
    draft = copy.deepcopy(load_fixture("pull_request.opened"))
    draft["pull_request"]["draft"] = True
    github.deliver("pull_request", draft)
    ready = copy.deepcopy(load_fixture("pull_request.ready_for_review"))
    ready["pull_request"]["updated_at"] = "2026-11-20T14:00:00Z"  # Fri 15:00 Berlin
    github.deliver("pull_request", ready)
    published(bot)
    jobs = card_jobs(bot)
    assert jobs.nudge(berlin(20, 17, 55)) == "nothing due"  # 4 h since opening, not ready
    assert jobs.nudge(berlin(23, 9, 55)) == "nothing due"
    assert jobs.nudge(berlin(23, 10)) == "review nudges: 1"  # 4 working hours since ready


def test_an_approval_is_nudged_then_marked_expired_on_the_card(
    bot: Services, github: GitHubSender, fake_slack: FakeSlack
) -> None:
    github.deliver("deployment_review", load_fixture("deployment_review.requested"))
    published(bot)  # waiting since Fri 11:05 Berlin
    # The outbox publishes at the test bot's clock, the wall clock's time, long past that
    # Friday: by then the request has expired, so nobody is asked for an approval they can
    # no longer give.
    assert replies(fake_slack, bot) == []
    jobs = card_jobs(bot)
    assert jobs.nudge(berlin(20, 13)) == "nothing due"
    assert jobs.nudge(berlin(20, 13, 5)) == "approval nudges: 1"
    nudge = replies(fake_slack, bot)[-1]
    assert nudge.text.startswith("<@U0BEN> ✋ octo-org/octo-app 6dcb09b: deploy to production "
                                 "still waits for approval (2 h)")
    assert "The request expires in 22 h" in str(nudge.blocks)

    # Saturday 11:05 Berlin: 24 h later. No nudge at the weekend; the card says expired.
    assert jobs.nudge(berlin(21, 11, 5)) == "expired approval requests: 1"
    assert jobs.nudge(berlin(21, 11, 10)) == "nothing due"
    card = card_row(bot)
    assert [s["text"] for s in card.doc["stamps"]] == [
        "⌛ The approval request for *production* expired after 24 h without a decision"]
    assert card.doc["updated_at"] == "2026-11-20T10:05:00Z"  # a note is no news
    message = published(bot)
    final = fake_slack.final_message(message.slack_channel, message.slack_ts)
    assert "expired after 24 h" in str(final.blocks)
    assert len(replies(fake_slack, bot)) == 1

    # Someone approves after all: news of the approval slot, and the note goes.
    github.deliver("deployment_review", load_fixture("deployment_review.approved"))
    assert card_row(bot).doc["stamps"] == []


def test_the_approval_policy_says_whom_to_remind(
    bot: Services, github: GitHubSender, fake_slack: FakeSlack
) -> None:
    github.deliver("deployment_review", load_fixture("deployment_review.requested"))
    published(bot)
    seen = []

    def approvers(card: Any, deployment: Any) -> list[str]:
        seen.append((card.sha, deployment.environment))
        return ["S0RELEASE", "U0CLEO"]

    assert card_jobs(bot, approvers).nudge(berlin(20, 13, 5)) == "approval nudges: 1"
    assert seen == [(HEAD, "production")]
    assert replies(fake_slack, bot)[-1].text.startswith("<!subteam^S0RELEASE> <@U0CLEO> ✋")


def test_a_stuck_build_says_no_news_for_47_min_until_news_arrives(
    bot: Services, github: GitHubSender, fake_slack: FakeSlack
) -> None:
    github.deliver("check_run", load_fixture("check_run.in_progress"))  # started 10:01:10Z
    published(bot)
    jobs = card_jobs(bot)
    started = datetime(2026, 11, 20, 10, 1, 10, tzinfo=UTC)
    assert jobs.mark_stuck(started + timedelta(minutes=29)) == "nothing due"
    assert jobs.mark_stuck(started + timedelta(minutes=47)) == "stuck checks noted: 1"
    assert jobs.mark_stuck(started + timedelta(minutes=47, seconds=30)) == "nothing due"
    card = card_row(bot)
    assert [s["text"] for s in card.doc["stamps"]] == [
        "⏳ *build* is running, no news for 47 min"]
    (check,) = card.doc["checks"]
    assert (check["status"], check["updated_at"]) == ("running", "2026-11-20T10:01:10Z")
    assert card.doc["overall"] == "running" and card.doc["updated_at"] == "2026-11-20T10:01:10Z"
    row = published(bot)
    assert "no news for 47 min" in str(fake_slack.final_message(row.slack_channel,
                                                                row.slack_ts).blocks)

    # Later the note says so in hours; the check still says running.
    assert jobs.mark_stuck(started + timedelta(hours=2, minutes=3)) == "stuck checks noted: 1"
    assert [s["text"] for s in card_row(bot).doc["stamps"]] == [
        "⏳ *build* is running, no news for 2 h"]

    github.deliver("check_run", load_fixture("check_run.completed"))
    card = card_row(bot)
    assert card.doc["stamps"] == [] and card.doc["checks"][0]["status"] == "success"
    assert jobs.mark_stuck(started + timedelta(hours=3)) == "nothing due"
    row = published(bot)
    assert "no news" not in str(fake_slack.final_message(row.slack_channel, row.slack_ts).blocks)


def test_with_slack_off_notes_are_still_made_and_nudges_wait(
    database_url: str, tmp_path: Path
) -> None:
    services = build_services(make_settings(database_url, tmp_path))
    migrate(services.db.engine)
    try:
        GitHubSender(TestClient(create_app(services=services)), GITHUB_SECRET).deliver(
            "deployment_review", load_fixture("deployment_review.requested"))
        jobs = card_jobs(services)
        assert jobs.nudge(berlin(20, 14)) == "nothing due (Slack is off: no nudges)"
        assert jobs.nudge(berlin(21, 12)) == ("expired approval requests: 1 (Slack is off: "
                                              "no nudges)")
    finally:
        services.db.dispose()
