"""Claiming a dirty card for one flusher, and handing it back: the outbox's bookkeeping.

A flusher claims one due card at a time (`FOR UPDATE SKIP LOCKED` plus a lease, so replicas
and threads never work the same card). Everything the plan needs is read in the claim's
transaction; what was sent is written back as soon as Slack has it. A card has one message
per channel its routes take it to: the first on the card's row, the others in
`card_messages` (unique per card and channel, so a race can never post a second one).
"""

from __future__ import annotations

import logging
import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from correlation.card import CommitCard
from correlation.routing import Destination
from correlation.ticket_replies import TicketFailure
from devexbot.lookups.log_records import recorded_logs
from devexbot.publish.routing import CardRouter
from devexbot.store import (
    Card,
    CardMessage,
    Database,
    Delivery,
    EventRecord,
    Notification,
    TicketUpdate,
)
from devexbot.store.cards import CardLoader, card_state
from devexbot.store.models import utcnow
from devexbot.store.replica import died_here, replica_name

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class OutboxPolicy:
    quiet: float = 0.4  # seconds without news before a dirty card is flushed...
    max_delay: float = 1.5  # ...or at most this long after it first became dirty
    lease: float = 60.0  # how long a claim keeps other flushers off a card
    retry_base: float = 1.0
    retry_max: float = 300.0
    recover_window: float = 3600.0  # how far back a crashed post is looked for


@dataclass
class CardPost:
    """One of a card's Slack messages: posted (`ts`), being posted (`post_started_at`), or
    owed to a channel a route takes the card to."""

    channel: str  # where it is: the channel's ID once Slack answered
    route_channel: str | None  # the channel as the route named it (None: posted before)
    ts: str | None = None
    render_hash: str | None = None  # the render it shows
    post_started_at: datetime | None = None
    on_card: bool = False  # the card's own (first) message, on its row; else `card_messages`
    thread_ts: str | None = None  # a reply in this thread: its PR's message (`per`)
    pr_head: bool = False  # it is its PR's message (`per: pull_request`): `pr_posts`
    stored: bool = False  # not `on_card`: its `card_messages` row exists


@dataclass
class Claim:
    """What a flusher took from the database for one card."""

    card_id: int
    token: str
    claimed_at: datetime
    version: int
    repo: str
    sha: str
    card: CommitCard
    doc: dict[str, Any]
    posts: list[CardPost]  # its messages so far, its own (first) message first
    destinations: tuple[Destination, ...]  # where its routes take it now, the first first
    successor_link: str | None = None
    successor: tuple[int, str, str] | None = None  # id, channel, ts of the newer head's card
    # The newer head's further messages (channel, ts), by the channel as routes name it.
    successors: dict[str, tuple[str, str]] = field(default_factory=dict)
    notified: set[str] = field(default_factory=set)
    # A thread reply's claim not yet `sent` (under way, or its answer lost): `lost_replies`.
    unsettled_replies: bool = False
    # Ticket updates that failed for good, by notification key, to be said once.
    ticket_failures: dict[str, TicketFailure] = field(default_factory=dict)
    dirty_since: datetime | None = None  # since when the card has news Slack lacks
    logs: dict[str, str | None] = field(default_factory=dict)  # the lookups' log excerpts
    # The trace contexts of the deliveries that made it dirty, oldest first (when traced).
    causes: tuple[str, ...] = ()
    failures: list[str] = field(default_factory=list)  # what went wrong this time, in words

    @property
    def destination(self) -> Destination | None:
        """The first destination: the route whose settings (DMs, nudges) the card follows."""
        return self.destinations[0] if self.destinations else None

    @property
    def posted(self) -> list[CardPost]:
        """The messages Slack has, the card's own first."""
        return sorted((post for post in self.posts if post.ts), key=lambda p: not p.on_card)


class CardClaims:
    """The claims on dirty cards, held by this process (`host:pid`) for a lease."""

    def __init__(self, db: Database, router: CardRouter, card_loader: CardLoader, *,
                 policy: OutboxPolicy, clock: Callable[[], datetime] = utcnow,
                 causes: int = 0) -> None:
        self.db, self.router, self.card_loader = db, router, card_loader
        self.policy, self.clock = policy, clock
        self.causes = causes  # how many deliveries' trace contexts a claim reads (0: none)
        self.owner = replica_name()

    def release_abandoned(self) -> int:
        """Free the claims of flushers on this host that died holding them (or of this
        process's earlier run): their cards go out now, not when the lease runs out.
        A claim of a live process, or of another host, waits for its lease as before."""
        with self.db.write() as session:
            held = session.execute(
                select(Card.id, Card.claim_owner).where(Card.claim_token.is_not(None),
                                                        Card.claim_owner.is_not(None))
            ).all()
            dead = [card_id for card_id, owner in held if owner and died_here(owner)]
            if dead:
                session.execute(update(Card).where(Card.id.in_(dead)).values(
                    claimed_until=None, claim_token=None, claim_owner=None))
        if dead:
            log.info("released %d card claim(s) left by a flusher that died", len(dead))
        return len(dead)

    def next(self) -> Claim | None:
        """The next due card, claimed; None when no card is due."""
        now = self.clock()
        policy = self.policy
        with self.db.write() as session:
            card = session.scalar(
                select(Card)
                .where(
                    Card.dirty.is_(True),
                    or_(Card.claimed_until.is_(None), Card.claimed_until < now),
                    or_(Card.next_flush_at.is_(None), Card.next_flush_at <= now),
                    or_(
                        Card.changed_at <= now - timedelta(seconds=policy.quiet),
                        Card.dirty_since <= now - timedelta(seconds=policy.max_delay),
                    ),
                )
                .order_by(Card.dirty_since, Card.id)
                .limit(1)
                .with_for_update(skip_locked=True)
            )
            if card is None:
                return None
            token = uuid.uuid4().hex
            card.claimed_until = now + timedelta(seconds=policy.lease)
            card.claim_token, card.claim_owner = token, self.owner
            claim = Claim(
                card_id=card.id,
                token=token,
                claimed_at=now,
                version=card.version,
                repo=card.repo,
                sha=card.sha,
                card=self.card_loader.load(card),
                doc=dict(card.doc),
                posts=_posts(session, card),
                destinations=(),
                dirty_since=card.dirty_since,
                logs=recorded_logs(card_state(card)),
                causes=_causes(session, card, self.causes),
            )
            # Once posted, a message stays where it is; the routes may add channels.
            claim.destinations = self.router.destinations(session, claim.doc)
            if card.superseded_by:
                successor = session.scalar(
                    select(Card).where(Card.repo == card.repo, Card.sha == card.superseded_by)
                )
                if successor and successor.slack_ts and successor.slack_channel:
                    claim.successor = (successor.id, successor.slack_channel, successor.slack_ts)
                    claim.successor_link = successor.slack_permalink
                if successor:
                    claim.successors = {p.route_channel or p.channel: (p.channel, p.ts)
                                        for p in _posts(session, successor)
                                        if p.ts and not p.on_card}
            told = session.execute(select(Notification.key, Notification.state,
                                          Notification.thread_ts)
                                   .where(Notification.card_id == card.id)).all()
            claim.notified = {key for key, _, _ in told}
            claim.unsettled_replies = any(thread_ts and state in ("sending", "unsure")
                                          for _, state, thread_ts in told)
            claim.ticket_failures = {
                f"ticket:{row.id}": TicketFailure(
                    ticket=row.ticket, environment=row.environment,
                    what=_ticket_update_name(row.kind, row.transition),
                    error=row.last_error or "refused")
                for row in session.scalars(select(TicketUpdate).where(
                    TicketUpdate.card_id == card.id, TicketUpdate.state == "failed_permanent"))
            }
            return claim

    def mark_post_started(self, claim: Claim, post: CardPost) -> None:
        """A post is about to go out: after a crash, look for it before posting again.
        Raises `IntegrityError` if the card has a message for that route already."""
        now = self.clock()
        with self.db.write() as session:
            if post.on_card:
                session.execute(update(Card).where(Card.id == claim.card_id,
                                                   Card.claim_token == claim.token)
                                .values(post_started_at=now, slack_channel=post.channel,
                                        slack_route_channel=post.route_channel,
                                        slack_thread_ts=post.thread_ts))
            elif not post.stored:
                session.add(CardMessage(card_id=claim.card_id, channel=post.channel,
                                        route_channel=post.route_channel or post.channel,
                                        thread_ts=post.thread_ts, post_started_at=now))
            else:
                session.execute(update(CardMessage).where(*message_row(claim, post))
                                .values(post_started_at=now, channel=post.channel,
                                        thread_ts=post.thread_ts))
        post.post_started_at, post.stored = now, not post.on_card

    def store_ts(self, claim: Claim, post: CardPost) -> None:
        """Record the new message at once: everything after this is an update."""
        now = self.clock()
        with self.db.write() as session:
            if post.on_card:
                session.execute(update(Card).where(Card.id == claim.card_id)
                                .values(slack_channel=post.channel, slack_ts=post.ts,
                                        post_started_at=None))
            else:
                session.execute(update(CardMessage).where(*message_row(claim, post)).values(
                    channel=post.channel, ts=post.ts, post_started_at=None))
            # Cards this one supersedes can now link to it (in this channel).
            session.execute(
                update(Card)
                .where(Card.repo == claim.repo, Card.superseded_by == claim.sha,
                       Card.slack_ts.is_not(None))
                .values(dirty=True, dirty_since=now, changed_at=now)
            )

    def store_permalink(self, card_id: int, link: str) -> None:
        with self.db.write() as session:
            session.execute(update(Card).where(Card.id == card_id).values(slack_permalink=link))

    def forget_message(self, claim: Claim, post: CardPost) -> None:
        """Slack lost this message: the next flush posts it anew if a route still takes
        the card there."""
        with self.db.write() as session:
            if post.on_card:
                session.execute(update(Card).where(Card.id == claim.card_id).values(
                    slack_ts=None, slack_channel=None, slack_route_channel=None,
                    slack_thread_ts=None, post_started_at=None, render_hash=None))
            else:
                session.execute(delete(CardMessage).where(*message_row(claim, post)))
        claim.posts.remove(post)

    def finish(self, claim: Claim) -> None:
        """Slack shows the claimed version: the card is clean unless news came meanwhile."""
        with self.db.write() as session:
            card = session.get(Card, claim.card_id, with_for_update=True)
            if card is None or card.claim_token != claim.token:
                log.warning("lost the claim on %s@%s", claim.repo, claim.sha[:7])
                return
            _store_renders(session, card, claim)
            card.flush_attempts, card.next_flush_at = 0, None
            card.claimed_until, card.claim_token, card.claim_owner = None, None, None
            if card.version == claim.version:  # nothing new arrived meanwhile
                card.dirty, card.dirty_since = False, None
            else:  # what arrived meanwhile is news since the claim, not since before it
                card.dirty_since = claim.claimed_at

    def release(self, claim: Claim, *, retry_in: float | None, failed: bool) -> float:
        """Hand the card back, still dirty: tried again after `retry_in`, or after a
        back-off that grows with each failure; how many seconds that is."""
        now = self.clock()
        with self.db.write() as session:
            card = session.get(Card, claim.card_id, with_for_update=True)
            if card is None or card.claim_token != claim.token:
                return retry_in or 0.0
            _store_renders(session, card, claim)
            if failed:
                card.flush_attempts += 1
                backoff = min(self.policy.retry_max,
                              self.policy.retry_base * 2 ** (card.flush_attempts - 1))
                retry_in = backoff * random.uniform(0.8, 1.2)  # noqa: S311 - jitter
            card.next_flush_at = now + timedelta(seconds=retry_in or 0)
            card.claimed_until, card.claim_token, card.claim_owner = None, None, None
        return retry_in or 0.0


def _posts(session: Session, card: Card) -> list[CardPost]:
    """The card's messages: its own (on its row) first, then the others as made."""
    posts = []
    if card.slack_ts or card.post_started_at:
        posts.append(CardPost(channel=card.slack_channel or "", ts=card.slack_ts,
                              route_channel=card.slack_route_channel,
                              render_hash=card.render_hash, thread_ts=card.slack_thread_ts,
                              post_started_at=card.post_started_at, on_card=True))
    for row in session.scalars(select(CardMessage).where(CardMessage.card_id == card.id)
                               .order_by(CardMessage.id)):
        posts.append(CardPost(channel=row.channel, route_channel=row.route_channel, ts=row.ts,
                              render_hash=row.render_hash, post_started_at=row.post_started_at,
                              thread_ts=row.thread_ts, stored=True))
    return posts


def _causes(session: Session, card: Card, limit: int) -> tuple[str, ...]:
    """The trace contexts of the first `limit` deliveries whose events arrived since the
    card became dirty: those its Slack messages do not show yet."""
    if not limit or card.dirty_since is None:
        return ()
    return tuple(found for found in session.scalars(
        select(Delivery.traceparent)
        .where(Delivery.traceparent.is_not(None),
               Delivery.id.in_(select(EventRecord.delivery_pk).where(
                   EventRecord.card_id == card.id, EventRecord.stored_at >= card.dirty_since)))
        .order_by(Delivery.id).limit(limit)) if found)


def message_row(claim: Claim, post: CardPost) -> tuple[Any, ...]:
    """The `card_messages` row of one of the card's further messages."""
    return (CardMessage.card_id == claim.card_id,
            CardMessage.route_channel == (post.route_channel or post.channel))


def _store_renders(session: Session, card: Card, claim: Claim) -> None:
    """What each message shows now, so the next flush updates only those behind."""
    for post in claim.posts:
        if post.on_card:
            card.render_hash = post.render_hash
        elif post.ts:
            session.execute(update(CardMessage).where(*message_row(claim, post))
                            .values(render_hash=post.render_hash))


def _ticket_update_name(kind: str, transition: str | None) -> str:
    if kind == "transition":
        return f"move to “{transition}”"
    if kind.startswith("decision:"):
        return "comment on the decision"
    return "deploy comment"
