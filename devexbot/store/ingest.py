"""Storing a webhook delivery: dedupe, append its events, join them into their cards.

Everything for one delivery happens in one transaction (shared with the deliveries that
queued up beside it), so a failure leaves no half-written rows, and the delivery id's unique
constraint makes a redelivery a no-op even under races.
No Slack or GitHub call happens here; changed cards are only marked dirty.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import insert, select, tuple_
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from correlation import Event
from correlation.events import clamp_future
from correlation.fold import FoldRules
from correlation.merge_queue import onto_pull, queue_commits
from devexbot.logs.context import on_delivery
from devexbot.store import Card, Database, Delivery, EventRecord
from devexbot.store.cards import apply_events
from devexbot.store.group_commit import GroupCommit
from devexbot.store.models import utcnow
from devexbot.tracing import NULL_TRACER, Tracer

log = logging.getLogger(__name__)

# Column sizes (devexbot.store.models): PostgreSQL refuses a longer value, SQLite stores it.
EVENT_TYPE_CHARS = 64
EVENT_NAME_CHARS = 255
TRACEPARENT_CHARS = 55  # W3C trace context, version 00

Outcome = Literal["stored", "ignored", "unparsed", "unattached", "duplicate"]
IngestHook = Callable[[Session, Card, Sequence[Event], datetime], None]
"""Runs in the delivery's transaction for each card it touched, after its events are
joined: keeps derived tables current (what is live where, ticket updates owed). Database
writes only: no network call happens in ingest."""


@dataclass(frozen=True)
class IngestResult:
    outcome: Outcome
    changed_cards: list[tuple[str, str]] = field(default_factory=list)


@dataclass(frozen=True)
class Submission:
    """One delivery, as a webhook handler read it."""

    source: str
    delivery_id: str
    event_type: str
    events: Sequence[Event]
    payload: Any = None
    parse_error: str | None = None
    unattached: str | None = None
    trace: str | None = None  # the delivery's span (`traceparent`), for the flush to join

    @property
    def outcome(self) -> Outcome:
        if self.parse_error:
            return "unparsed"
        if self.unattached:
            return "unattached"
        return "stored" if self.events else "ignored"


class Ingest:
    """Takes parsed deliveries into the database.

    Deliveries are written by one thread, as many to a transaction as have queued up while
    the previous one committed (`GroupCommit`): the caller's answer still waits for its own
    delivery's commit, but under load a card touched by several deliveries is folded once and
    the database commits once per batch instead of once per delivery.
    """

    def __init__(
        self,
        db: Database,
        *,
        rules: FoldRules,
        clock: Callable[[], datetime] = utcnow,
        hooks: Sequence[IngestHook] = (),
        on_change: Sequence[Callable[[], None]] = (),
        tracer: Tracer = NULL_TRACER,
    ) -> None:
        self.db = db
        self.tracer = tracer
        self.rules = rules  # how the cards it refreshes fold
        self.clock = clock
        self.hooks = tuple(hooks)  # run in the transaction of each card a delivery changed
        self.on_change = tuple(on_change)  # wake-ups once a batch changed cards (the outbox…)
        # One writer thread: more (tried on PostgreSQL, to overlap commits) only made
        # smaller batches contend for the interpreter: bench/ingest_floor.py measured it.
        self._writer: GroupCommit[Submission, IngestResult] = GroupCommit(
            self.store, name="ingest")

    def record(self, **delivery: Any) -> IngestResult:
        """Store one delivery (see `Submission`); a delivery id seen before changes nothing.

        `parse_error` says why a delivery could not be read, `unattached` why it belongs
        to no commit (a Jenkins build of no commit): either way its payload is kept, so it
        can be looked at, and replayed after a fix.
        """
        trace = self.tracer.traceparent()
        with self.tracer.span("store", attributes=_attributes(delivery)) as span:
            result = self._writer.submit(Submission(**delivery, trace=trace)).result()
            span.set_attribute("devexbot.delivery.outcome", result.outcome)
        return result

    async def record_async(self, **delivery: Any) -> IngestResult:
        """`record` for a request handler: waits for the commit without holding a thread.
        The request's log lines from here on carry the delivery id."""
        on_delivery(str(delivery.get("delivery_id")))
        trace = self.tracer.traceparent()  # the request's span, before "store" opens
        with self.tracer.span("store", attributes=_attributes(delivery)) as span:
            result = await asyncio.wrap_future(
                self._writer.submit(Submission(**delivery, trace=trace)))
            span.set_attribute("devexbot.delivery.outcome", result.outcome)
        return result

    def store(self, batch: Sequence[Submission]) -> list[IngestResult]:
        """Store deliveries in one transaction; their results, in order."""
        now = self.clock()
        results = [IngestResult("duplicate")] * len(batch)  # until stored below
        with self.db.write() as session:
            stored = self._claim_deliveries(session, batch, now)
            changed = self._apply(session, [(stored[i], batch[i]) for i in sorted(stored)], now)
        for i in stored:
            delivery = batch[i]
            keys = {(e.repo, e.sha) for e in delivery.events}
            results[i] = IngestResult(delivery.outcome, sorted(keys & changed))
            if delivery.parse_error:
                log.warning("%s delivery %s (%s) stored unparsed: %s", delivery.source,
                            delivery.delivery_id, delivery.event_type, delivery.parse_error)
            elif delivery.unattached:
                log.info("%s delivery %s (%s) attaches to no card: %s", delivery.source,
                         delivery.delivery_id, delivery.event_type, delivery.unattached)
        if changed:
            for wake in self.on_change:
                wake()
        return results

    def _claim_deliveries(
        self, session: Session, batch: Sequence[Submission], now: datetime
    ) -> dict[int, int]:
        """Insert the deliveries not seen before; {index in batch: delivery row id}."""
        first: dict[tuple[str, str], int] = {}
        for i, delivery in enumerate(batch):
            first.setdefault((delivery.source, delivery.delivery_id), i)
        rows = [
            {
                "source": batch[i].source,
                "delivery_id": batch[i].delivery_id,
                "event_type": batch[i].event_type[:EVENT_TYPE_CHARS],
                "outcome": batch[i].outcome,
                "detail": batch[i].parse_error or batch[i].unattached,
                "payload": batch[i].payload if (batch[i].parse_error or batch[i].unattached)
                else None,
                "received_at": now,
                "traceparent": _fits(batch[i].trace, TRACEPARENT_CHARS),
            }
            for i in sorted(first.values(), key=lambda i: (batch[i].source, batch[i].delivery_id))
        ]  # in one order everywhere: two writers' batches cannot deadlock on the same ids
        stmt = (_dialect_insert(session)(Delivery.__table__)
                .on_conflict_do_nothing(index_elements=["source", "delivery_id"])
                .returning(Delivery.source, Delivery.delivery_id, Delivery.id))
        inserted = session.connection().execute(stmt, rows).all()
        return {first[(source, delivery_id)]: pk for source, delivery_id, pk in inserted}

    def _apply(
        self, session: Session, deliveries: Sequence[tuple[int, Submission]], now: datetime
    ) -> set[tuple[str, str]]:
        by_card: dict[tuple[str, str], list[tuple[int, Event]]] = defaultdict(list)
        traces = {pk: delivery.trace for pk, delivery in deliveries if delivery.trace}
        for delivery_pk, delivery in deliveries:
            events, clamped = clamp_future(delivery.events, now)
            if clamped:
                log.warning("%s delivery %s (%s): %d event time(s) ahead of its arrival, up "
                            "to %s, taken as its arrival", delivery.source,
                            delivery.delivery_id, delivery.event_type, len(clamped),
                            max(e.at for e in clamped).isoformat())
            for event in _onto_pulls(session, events):
                by_card[(event.repo, event.sha)].append((delivery_pk, event))
        if not by_card:
            return set()
        cards = _lock_cards(session, sorted(by_card), now=now)
        session.connection().execute(insert(EventRecord), [
            {
                "delivery_pk": delivery_pk,
                "card_id": cards[key].id,
                "repo": e.repo,
                "sha": e.sha,
                "source": e.source,
                "kind": e.kind,
                "name": e.name[:EVENT_NAME_CHARS],  # the card keeps it whole
                "status": e.status.value if e.status else None,
                "at": e.at,
                "data": dict(e.data),
                "stored_at": now,
            }
            for key in sorted(by_card)
            for delivery_pk, e in by_card[key]
        ])
        changed = set()
        for key in sorted(by_card):
            card, events = cards[key], [e for _, e in by_card[key]]
            # In the trace of the card's first delivery in this batch, linked to the others.
            causes = list(dict.fromkeys(traces[pk] for pk, _ in by_card[key] if pk in traces))
            with self.tracer.span("fold", parent=causes[0] if causes else None,
                                  links=causes[1:], attributes={
                                      "devexbot.card": f"{key[0]}@{key[1]}",
                                      "devexbot.events": len(events)}) as span:
                if apply_events(card, events, rules=self.rules, now=now):
                    changed.add(key)
                    span.set_attribute("devexbot.card.changed", True)
                for hook in self.hooks:
                    hook(session, card, events, now)
        return changed


def _onto_pulls(session: Session, events: list[Event]) -> list[Event]:
    """The events, those of a merge queue commit moved onto the card of the pull request
    it tests (the card of its head commit, as the pull request's events last said); a
    queue commit whose pull request has no card yet keeps its events."""
    queued = queue_commits(events)
    if not queued:
        return events
    kept = [e for e in events if (e.repo, e.sha) not in queued]
    for (repo, sha), number in sorted(queued.items()):
        own = [e for e in events if (e.repo, e.sha) == (repo, sha)]
        head = _pull_head(session, repo, number, not_sha=sha)
        kept += onto_pull(own, head) if head is not None else own
    return kept


def _pull_head(session: Session, repo: str, number: int, *, not_sha: str) -> str | None:
    """The head commit of pull request `number`: the card of the pull request that is its
    head's (not an earlier head's, nor its merge commit's)."""
    candidates = session.execute(
        select(Card.sha, Card.doc)
        .where(Card.repo == repo, Card.pr_number == number, Card.superseded_by.is_(None),
               Card.sha != not_sha)
        .order_by(Card.updated_at.desc(), Card.id.desc()).limit(5)
    ).all()
    for card_sha, doc in candidates:
        pull = (doc or {}).get("pull_request") or {}
        if pull.get("head_sha") == card_sha:
            return str(card_sha)
    return None


def _fits(value: str | None, chars: int) -> str | None:
    return value if value is not None and len(value) <= chars else None


def _attributes(delivery: dict[str, Any]) -> dict[str, str]:
    """What a span says of a delivery: where from, which, what kind (never its payload)."""
    return {"devexbot.delivery.source": str(delivery.get("source")),
            "devexbot.delivery.id": str(delivery.get("delivery_id")),
            "devexbot.delivery.event": str(delivery.get("event_type"))}


def _dialect_insert(session: Session) -> Any:
    dialect = session.get_bind().dialect.name
    return postgresql.insert if dialect == "postgresql" else sqlite.insert


def _lock_cards(
    session: Session, keys: Sequence[tuple[str, str]], *, now: datetime
) -> dict[tuple[str, str], Card]:
    """The cards of these (repo, sha) keys, created if new, locked for this transaction.

    Keys are sorted and rows locked in that order, so two replicas' transactions touching
    the same cards cannot deadlock on PostgreSQL.
    """
    session.connection().execute(
        _dialect_insert(session)(Card.__table__).on_conflict_do_nothing(
            index_elements=["repo", "sha"]),
        [{"repo": repo, "sha": sha, "state": [], "doc": {}, "overall": "neutral",
          "updated_at": now, "created_at": now, "changed_at": now, "version": 0,
          "dirty": False} for repo, sha in keys],
    )
    found = session.scalars(
        select(Card).where(tuple_(Card.repo, Card.sha).in_(keys))
        .order_by(Card.repo, Card.sha)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).all()
    cards = {(card.repo, card.sha): card for card in found}
    assert len(cards) == len(keys)
    return cards
