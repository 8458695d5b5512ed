"""Retention: old events and deliveries go in batches; cards stay as they were and keep
folding new events exactly as a database that was never pruned."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from devexbot.config import Retention
from devexbot.scheduler.retention import prune
from devexbot.store import (
    AuditEntry,
    Card,
    Delivery,
    EventRecord,
    Notification,
    PullRequestMessage,
)
from devexbot.store.catchup import CatchUpAsk
from devexbot.store.delivery_tables import ChangeSignal, DeployRecord, ShippedCommit
from devexbot.wiring import Services
from tests.bot import BotFactory, SteppedClock, TestBot
from tests.github_sender import load_fixture
from tests.scenario import HEAD, REPO, commit_stream

NOW = datetime(2026, 12, 31, 12, tzinfo=UTC)
OLD = NOW - timedelta(days=40)


def count(services: Services, model: Any, *where: Any) -> int:
    with services.db.read() as session:
        return session.scalar(select(func.count()).select_from(model).where(*where)) or 0


def card_snapshot(services: Services) -> dict[str, Any]:
    with services.db.read() as session:
        card = session.scalar(select(Card).where(Card.repo == REPO, Card.sha == HEAD))
        assert card is not None
        return {"doc": card.doc, "state": card.state, "channel": card.slack_channel,
                "ts": card.slack_ts, "render_hash": card.render_hash, "version": card.version,
                "notifications": sorted(session.scalars(
                    select(Notification.key).where(Notification.card_id == card.id)))}


@pytest.fixture
def clock() -> SteppedClock:
    """The deliveries arrive 40 days before `NOW`."""
    return SteppedClock(start=OLD)


def deliver(bots: list[TestBot], deliveries: Any) -> None:
    for bot in bots:
        for event, payload in deliveries:
            assert bot.deliver(event, payload).status_code == 202


def advance_to(clock: SteppedClock, moment: datetime) -> None:
    clock.advance(moment - clock.now())


def test_pruning_keeps_cards_intact_and_they_fold_new_events_as_before(
    make_bot: BotFactory, clock: SteppedClock, tmp_path: Path
) -> None:
    bot = make_bot()
    # The same deliveries into a database that is never pruned, to compare with.
    twin = make_bot(slack_on=False, database_url=f"sqlite:///{tmp_path / 'twin.db'}")
    deliver([bot, twin], commit_stream())
    advance_to(clock, NOW - timedelta(days=1))
    deliver([bot, twin], [("pull_request_review",
                           load_fixture("pull_request_review.submitted.approved"))])
    bot.settle()  # the card in Slack, with its failure reply
    db = bot.services
    with db.db.write() as session:
        session.add_all([AuditEntry(at=OLD - timedelta(days=300), slack_user="U0ANA",
                                    action="card.merge", result="ok", repo=REPO)])
    old_events = count(db, EventRecord, EventRecord.stored_at < NOW - timedelta(days=30))
    old_deliveries = count(db, Delivery, Delivery.received_at < NOW - timedelta(days=30))
    assert old_events > 20 and old_deliveries == len(commit_stream())
    before = card_snapshot(db)
    assert before["ts"] and before["notifications"]

    pauses: list[float] = []
    pruned = prune(db.db, Retention(events_days=30, deliveries_days=30, batch_size=7), NOW,
                   sleep=pauses.append)

    assert pruned.rows == {"events": old_events, "deliveries": old_deliveries}
    assert pruned.batches == -(-old_events // 7) + -(-old_deliveries // 7)
    assert len(pauses) == old_events // 7 + old_deliveries // 7  # between full batches
    assert count(db, EventRecord) == 1 and count(db, Delivery) == 1  # the recent review
    assert card_snapshot(db) == before  # the card, its message and its replies
    assert count(db, AuditEntry) == 1  # audit is kept by default
    assert prune(db.db, Retention(), NOW).summary() == "nothing to prune"

    # New news folds into the pruned card exactly as into the unpruned twin.
    advance_to(clock, NOW)
    deliver([bot, twin], [
        ("check_run", load_fixture("check_run.completed.failure")),
        ("pull_request", load_fixture("pull_request.edited")),
    ])
    assert card_snapshot(db)["doc"] == card_snapshot(twin.services)["doc"]
    assert card_snapshot(db)["state"] == card_snapshot(twin.services)["state"]
    api = bot.client.get(f"/api/cards/{REPO}/{HEAD}")
    assert api.status_code == 200 and api.json()["checks"] == card_snapshot(twin.services)[
        "doc"]["checks"]


def test_cards_and_audit_go_only_when_configured(make_bot: BotFactory) -> None:
    bot = make_bot(slack_on=False)
    services = bot.services
    deliver([bot], commit_stream())  # the card's news is of 2026-11-20
    with services.db.write() as session:
        session.add_all([
            AuditEntry(at=NOW - timedelta(days=400), slack_user="U0ANA", action="card.merge",
                       result="ok"),
            AuditEntry(at=NOW - timedelta(days=10), slack_user="U0ANA", action="card.retry",
                       result="ok"),
        ])
    prune(services.db, Retention(events_days=None, deliveries_days=None), NOW)
    assert count(services, Card) == 1 and count(services, AuditEntry) == 2

    pruned = prune(services.db, Retention(events_days=None, deliveries_days=None,
                                          cards_days=30, audit_days=365), NOW)
    assert pruned.rows == {"cards": 1, "audit entries": 1}
    assert count(services, Card) == 0 and count(services, AuditEntry) == 1
    assert count(services, EventRecord, EventRecord.card_id.is_(None)) == count(
        services, EventRecord) > 0  # events outlive their card only until events_days


def metrics_history(services: Services, *ages: int) -> None:
    """A deploy to production `age` days before NOW for each age, carrying one commit, with
    a revert seen then, and catch-up's ask for a redelivery made then."""
    with services.db.write() as session:
        for n, age in enumerate(ages):
            at = NOW - timedelta(days=age)
            sha = f"{n + 1:040x}"
            deploy = DeployRecord(repo=REPO, env_key="production", environment="production",
                                  sha=sha, succeeded=True, at=at)
            session.add(deploy)
            session.flush()
            session.add_all([
                ShippedCommit(repo=REPO, env_key="production", sha=sha, title="Change",
                              first_seen=at - timedelta(hours=2), deployed_at=at,
                              deploy_id=deploy.id),
                ChangeSignal(repo=REPO, kind="revert", ref=sha, at=at),
                CatchUpAsk(guid=f"guid-{n}", hook="repos/octo-org/octo-app/hooks/1",
                           logged_id=n, asked_at=at),
            ])


def test_the_metrics_history_goes_only_when_configured_and_redelivery_asks_with_deliveries(
        make_bot: BotFactory) -> None:
    services = make_bot(slack_on=False).services
    metrics_history(services, 400, 40, 10)
    pruned = prune(services.db, Retention(events_days=None, deliveries_days=None), NOW)
    assert pruned.rows == {}
    assert count(services, DeployRecord) == count(services, CatchUpAsk) == 3

    pruned = prune(services.db, Retention(events_days=None, deliveries_days=30), NOW)
    assert pruned.rows == {"redelivery asks": 2}  # the metrics are kept unless configured
    assert count(services, DeployRecord) == 3 and count(services, CatchUpAsk) == 1

    pruned = prune(services.db, Retention(events_days=None, deliveries_days=None,
                                          metrics_days=365, batch_size=1), NOW)
    assert pruned.rows == {"shipped commits": 1, "deploy records": 1, "change signals": 1}
    assert count(services, DeployRecord) == count(services, ShippedCommit) == count(
        services, ChangeSignal) == 2
    with services.db.read() as session:
        kept = session.scalars(select(DeployRecord.at).order_by(DeployRecord.at)).all()
    assert kept == [NOW - timedelta(days=40), NOW - timedelta(days=10)]


def test_a_pull_requests_message_is_forgotten_with_its_last_card(make_bot: BotFactory) -> None:
    bot = make_bot(slack_on=False)
    services = bot.services
    bot.deliver("pull_request", load_fixture("pull_request.opened"))  # #12, of 2026-11-20
    with services.db.write() as session:
        session.add_all([PullRequestMessage(repo=REPO, number=number, route_channel="#prs",
                                            channel="C0PRS", ts="1.1", head_sha=HEAD)
                         for number in (12, 99)])  # #99's cards were pruned before
    pruned = prune(services.db, Retention(events_days=None, deliveries_days=None,
                                          cards_days=60), NOW)
    assert pruned.rows == {"pull request messages": 1}
    assert count(services, PullRequestMessage, PullRequestMessage.number == 12) == 1
    pruned = prune(services.db, Retention(events_days=None, deliveries_days=None,
                                          cards_days=30), NOW)
    assert pruned.rows == {"cards": 1, "pull request messages": 1}
    assert count(services, PullRequestMessage) == 0
