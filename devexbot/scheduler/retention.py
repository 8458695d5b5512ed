"""Pruning old events and deliveries (and, if configured, cards, audit entries and the
delivery metrics' history).

Rows go in batches of `batch_size`, one short transaction each, with a pause between, so
webhook ingest (SQLite has one writer at a time) waits at most one batch.

Pruning events is safe for cards: a card keeps its folded slot state (`cards.state`, the
join of every event it has had), so new events still fold into it exactly as if the old
ones were there, and its JSON and Slack message stay as they are. What is lost is the
ability to refold a card from scratch, and the raw history older than `events_days`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, delete, exists, select

from devexbot.config import Retention
from devexbot.store import (
    AuditEntry,
    Card,
    Database,
    Delivery,
    EventRecord,
    PullRequestMessage,
)
from devexbot.store.catchup import CatchUpAsk
from devexbot.store.delivery_tables import ChangeSignal, DeployRecord, ShippedCommit

PAUSE = 0.05  # seconds between batches: room for ingest's writes


@dataclass
class Pruned:
    rows: dict[str, int] = field(default_factory=dict)
    batches: int = 0

    def summary(self) -> str:
        parts = [f"{n} {table}" for table, n in self.rows.items()]
        return (f"pruned {', '.join(parts)} in {self.batches} batches" if parts
                else "nothing to prune")


def prune(
    db: Database,
    retention: Retention,
    now: datetime,
    *,
    sleep: Callable[[float], None] = time.sleep,
) -> Pruned:
    """Delete what is older than the retention allows; returns what went."""
    pruned = Pruned()

    def older(days: int | None) -> datetime | None:
        return now - timedelta(days=days) if days is not None else None

    if (cutoff := older(retention.events_days)) is not None:
        _in_batches(db, pruned, "events", EventRecord, EventRecord.stored_at < cutoff,
                    retention.batch_size, sleep)
    if (cutoff := older(retention.deliveries_days)) is not None:
        # A delivery goes with its last event (events reference their delivery).
        has_events = exists().where(EventRecord.delivery_pk == Delivery.id)
        _in_batches(db, pruned, "deliveries", Delivery,
                    (Delivery.received_at < cutoff) & ~has_events, retention.batch_size, sleep)
        # What catch-up asked GitHub to redeliver: long past GitHub's 3-day window by then.
        _in_batches(db, pruned, "redelivery asks", CatchUpAsk, CatchUpAsk.asked_at < cutoff,
                    retention.batch_size, sleep, key=CatchUpAsk.guid)
    if (cutoff := older(retention.cards_days)) is not None:
        _in_batches(db, pruned, "cards", Card, Card.updated_at < cutoff, retention.batch_size,
                    sleep)
        # A pull request's one message per channel is forgotten with the last of its cards:
        # a later push posts a new one rather than updating one long scrolled away.
        has_cards = exists().where(Card.repo == PullRequestMessage.repo,
                                   Card.pr_number == PullRequestMessage.number)
        _in_batches(db, pruned, "pull request messages", PullRequestMessage, ~has_cards,
                    retention.batch_size, sleep)
    if (cutoff := older(retention.audit_days)) is not None:
        _in_batches(db, pruned, "audit entries", AuditEntry, AuditEntry.at < cutoff,
                    retention.batch_size, sleep)
    if (cutoff := older(retention.metrics_days)) is not None:
        # A deploy's commits go first (they name it), then the deploy, then the reverts and
        # hotfixes: periods older than this no longer have figures.
        old_deploy = select(DeployRecord.id).where(DeployRecord.at < cutoff)
        _in_batches(db, pruned, "shipped commits", ShippedCommit,
                    ShippedCommit.deploy_id.in_(old_deploy), retention.batch_size, sleep)
        _in_batches(db, pruned, "deploy records", DeployRecord, DeployRecord.at < cutoff,
                    retention.batch_size, sleep)
        _in_batches(db, pruned, "change signals", ChangeSignal, ChangeSignal.at < cutoff,
                    retention.batch_size, sleep)
    return pruned


def _in_batches(db: Database, pruned: Pruned, label: str, model: Any,
                condition: ColumnElement[bool], batch_size: int,
                sleep: Callable[[float], None], *, key: Any = None) -> None:
    key = model.id if key is None else key
    while True:
        batch = select(key).where(condition).order_by(key).limit(batch_size)
        with db.write() as session:
            deleted = int(session.execute(  # type: ignore[attr-defined]
                delete(model).where(key.in_(batch))
            ).rowcount)
        if deleted:
            pruned.batches += 1
            pruned.rows[label] = pruned.rows.get(label, 0) + deleted
        if deleted < batch_size:
            return
        sleep(PAUSE)
