"""Which cards' lookups are due: those whose version moved since their last lookup. A card
is leased to one looker at a time, so replicas and threads never look it up twice."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update

from correlation.card import CommitCard
from devexbot.store import Card, Database
from devexbot.store.cards import CardLoader, mark_dirty
from devexbot.store.models import utcnow


@dataclass(frozen=True)
class LookupPolicy:
    poll: float = 1.0  # seconds between looks for due cards (ingest also wakes the worker)
    lease: float = 120.0  # how long a looker keeps others off a card
    horizon: float = 86400.0  # cards changed longer ago than this are not looked up
    retry: float = 60.0  # a lookup that could not be done (GitHub down) is tried again


@dataclass(frozen=True)
class DueCard:
    card_id: int
    version: int
    card: CommitCard


class LookupClaims:
    def __init__(self, db: Database, card_loader: CardLoader, *, policy: LookupPolicy,
                 clock: Callable[[], datetime] = utcnow) -> None:
        self.db, self.card_loader, self.policy, self.clock = db, card_loader, policy, clock

    def next(self) -> DueCard | None:
        """The next card whose lookups are due, leased; None when none is."""
        now = self.clock()
        with self.db.write() as session:
            row = session.scalar(
                select(Card)
                .where(or_(Card.looked_up_version.is_(None),
                           Card.looked_up_version != Card.version),
                       or_(Card.lookup_until.is_(None), Card.lookup_until < now),
                       Card.changed_at >= now - timedelta(seconds=self.policy.horizon))
                .order_by(Card.changed_at, Card.id)
                .limit(1)
                .with_for_update(skip_locked=True)
            )
            if row is None:
                return None
            row.lookup_until = now + timedelta(seconds=self.policy.lease)
            return DueCard(row.id, row.version, self.card_loader.load(row))

    def finish(self, due: DueCard, *, changed: bool, complete: bool = True) -> None:
        """The lookups of `due`'s version are done; `changed`: what the card shows changed,
        so the outbox renders it again (at once, even if it waits out a retry). Lookups not
        `complete` (a service could not say) are tried again after the policy's `retry`."""
        now = self.clock()
        with self.db.write() as session:
            row = session.get(Card, due.card_id, with_for_update=True)
            if row is None:
                return
            looked_at: int | None = due.version
            until: datetime | None = None
            if changed:
                caught_up = row.version == due.version
                mark_dirty(session, due.card_id, now)
                if caught_up:  # the mark is the looker's own news: nothing to look up
                    looked_at = due.version + 1
                if row.flush_attempts == 0:
                    session.execute(update(Card).where(Card.id == due.card_id)
                                    .values(next_flush_at=None))
            if not complete:
                looked_at = row.looked_up_version
                until = now + timedelta(seconds=self.policy.retry)
            session.execute(update(Card).where(Card.id == due.card_id)
                            .values(looked_up_version=looked_at, lookup_until=until))
