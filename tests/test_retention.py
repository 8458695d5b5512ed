"""Retention: old events and deliveries go in batches; cards stay as they were and keep
folding new events exactly as a database that was never pruned."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from devexbot.app import create_app
from devexbot.config import Retention
from devexbot.scheduler.retention import prune
from devexbot.services import Services, build_services
from devexbot.store import AuditEntry, Card, Delivery, EventRecord, Notification
from tests.conftest import GITHUB_SECRET, make_settings
from tests.db_template import migrate
from tests.fakes.slack_api import FakeSlack
from tests.github_sender import GitHubSender, load_fixture
from tests.scenario import HEAD, REPO, commit_stream
from tests.slack_app import slack_services, wait_for
from tests.test_slack_cards import settled

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


def deliver_at(services: Services, clock: Callable[[], datetime], deliveries: Any) -> None:
    services.ingest.clock = clock
    sender = GitHubSender(TestClient(create_app(services=services)), GITHUB_SECRET)
    for event, payload in deliveries:
        assert sender.deliver(event, payload).status_code == 202


def test_pruning_keeps_cards_intact_and_they_fold_new_events_as_before(
    database_url: str, tmp_path: Path, fake_slack: FakeSlack
) -> None:
    bot = slack_services(database_url, tmp_path, fake_slack.base_url)
    # The same deliveries into a database that is never pruned, to compare with.
    twin = build_services(make_settings(f"sqlite:///{tmp_path / 'twin.db'}", tmp_path))
    migrate(twin.db.engine)
    try:
        for services in (bot, twin):
            deliver_at(services, lambda: OLD, commit_stream())
            deliver_at(services, lambda: NOW - timedelta(days=1),
                       [("pull_request_review", load_fixture("pull_request_review.submitted"
                                                             ".approved"))])
        assert bot.outbox is not None
        wait_for(lambda: bot.outbox.flush() is not None and settled(bot),  # type: ignore[union-attr]
                 what="the card in Slack, with its failure reply")
        with bot.db.write() as session:
            session.add_all([AuditEntry(at=OLD - timedelta(days=300), slack_user="U0ANA",
                                        action="card.merge", result="ok", repo=REPO)])
        old_events = count(bot, EventRecord, EventRecord.stored_at < NOW - timedelta(days=30))
        old_deliveries = count(bot, Delivery, Delivery.received_at < NOW - timedelta(days=30))
        assert old_events > 20 and old_deliveries == len(commit_stream())
        before = card_snapshot(bot)
        assert before["ts"] and before["notifications"]

        pauses: list[float] = []
        pruned = prune(bot.db, Retention(events_days=30, deliveries_days=30, batch_size=7), NOW,
                       sleep=pauses.append)

        assert pruned.rows == {"events": old_events, "deliveries": old_deliveries}
        assert pruned.batches == -(-old_events // 7) + -(-old_deliveries // 7)
        assert len(pauses) == old_events // 7 + old_deliveries // 7  # between full batches
        assert count(bot, EventRecord) == 1 and count(bot, Delivery) == 1  # the recent review
        assert card_snapshot(bot) == before  # the card, its message and its replies
        assert count(bot, AuditEntry) == 1  # audit is kept by default
        assert prune(bot.db, Retention(), NOW).summary() == "nothing to prune"

        # New news folds into the pruned card exactly as into the unpruned twin.
        for services in (bot, twin):
            deliver_at(services, lambda: NOW, [
                ("check_run", load_fixture("check_run.completed.failure")),
                ("pull_request", load_fixture("pull_request.edited")),
            ])
        assert card_snapshot(bot)["doc"] == card_snapshot(twin)["doc"]
        assert card_snapshot(bot)["state"] == card_snapshot(twin)["state"]
        api = TestClient(create_app(services=bot)).get(f"/api/cards/{REPO}/{HEAD}")
        assert api.status_code == 200 and api.json()["checks"] == card_snapshot(twin)["doc"][
            "checks"]
    finally:
        bot.db.dispose()
        twin.db.dispose()


def test_cards_and_audit_go_only_when_configured(database_url: str, tmp_path: Path) -> None:
    services = build_services(make_settings(database_url, tmp_path))
    migrate(services.db.engine)
    try:
        deliver_at(services, lambda: OLD, commit_stream())  # the card's news is of 2026-11-20
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
    finally:
        services.db.dispose()
