"""Reading and refreshing stored cards: slot state in, card JSON out."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from correlation import CommitCard, Event, join
from correlation.fold import FoldRules
from devexbot.store.engine import Database
from devexbot.store.messages import CardMessage
from devexbot.store.models import Card, utcnow

BRANCH_CHARS = 255  # the column: PostgreSQL refuses longer, and the card's JSON has it whole


def card_state(card: Card) -> dict[tuple[str, str, str], Event]:
    events = (Event.from_dict(raw) for raw in card.state or ())
    return {e.slot: e for e in events}


@dataclass(frozen=True)
class CardLoader:
    """Stored cards as CommitCards, all folded by the bot's one `FoldRules`: every reader
    (Slack, the web workspace, the scheduler, approvals, actions) shows the same card, and
    the same one `apply_events` stores for the API."""

    rules: FoldRules

    def load(self, row: Card) -> CommitCard:
        """The card of a stored row, refolded from its slots."""
        return self.rules.card(row.repo, row.sha, card_state(row))


def apply_events(
    card: Card,
    events: Iterable[Event],
    *,
    rules: FoldRules,
    now: datetime | None = None,
) -> bool:
    """Join events into the card's state and refresh its JSON; True if the card changed.

    A change marks the card dirty: the outbox will bring its Slack message up to date.
    """
    raw = {(r["source"], r["kind"], r["name"]): r for r in card.state or ()}
    before = {slot: Event.from_dict(r) for slot, r in raw.items()}
    state = join(before, events)
    if all(before.get(slot) is event for slot, event in state.items()):
        return False  # nothing new (a redelivery, or older news than the card has)
    folded = rules.card(card.repo, card.sha, state)
    doc = folded.to_json()
    card.state = [raw[slot] if before.get(slot) is state[slot] else state[slot].to_dict()
                  for slot in sorted(state)]
    if doc == card.doc:
        return False
    now = now or utcnow()
    card.doc = doc
    card.branch = folded.branch[:BRANCH_CHARS] if folded.branch else None
    card.pr_number = folded.pull_request.number if folded.pull_request else None
    card.superseded_by = folded.superseded_by
    card.overall = folded.overall.value
    card.updated_at = folded.updated_at or now
    card.changed_at = now
    card.version = (card.version or 0) + 1
    if not card.dirty:
        card.dirty, card.dirty_since = True, now
    return True


def card_json(card: Card, further: Iterable[CardMessage] = ()) -> dict[str, Any]:
    """The card as the API serves it (DESIGN.md's card model): `slack` is its first
    message, `slack_messages` all of them (one per channel), `further` the others."""
    doc = dict(card.doc)
    # A reply in its PR's message's thread (`per: pull_request`) says so in `thread_ts`.
    messages = [{"channel": channel, "ts": ts, "pending": card.dirty,
                 **({"thread_ts": thread} if thread else {})}
                for channel, ts, thread in [
                    (card.slack_channel, card.slack_ts, card.slack_thread_ts),
                    *((m.channel, m.ts, m.thread_ts) for m in further)]
                if channel and ts]
    doc["slack"] = messages[0] if messages else None
    doc["slack_messages"] = messages
    return doc


def further_messages(session: Session, cards: Iterable[Card]) -> dict[int, list[CardMessage]]:
    """The cards' messages besides their first, by card id, as they were made."""
    ids = [card.id for card in cards]
    found: dict[int, list[CardMessage]] = {}
    for start in range(0, len(ids), 500):
        for row in session.scalars(select(CardMessage)
                                   .where(CardMessage.card_id.in_(ids[start:start + 500]))
                                   .order_by(CardMessage.id)):
            found.setdefault(row.card_id, []).append(row)
    return found


def get_card(session: Session, repo: str, sha: str) -> Card | None:
    return session.scalar(select(Card).where(Card.repo == repo.lower(), Card.sha == sha.lower()))


def find_cards(
    session: Session, *, repo: str | None = None, sha_prefix: str | None = None, limit: int = 20
) -> list[Card]:
    """Cards newest first (by the latest event time), optionally of one repo."""
    query = select(Card).order_by(Card.updated_at.desc(), Card.id.desc()).limit(limit)
    if repo:
        query = query.where(Card.repo == repo.lower())
    if sha_prefix:
        query = query.where(Card.sha.startswith(sha_prefix.lower()))
    return list(session.scalars(query))


def mark_dirty(session: Session, card_id: int, now: datetime) -> None:
    """Something besides its events changed what the card shows (a ticket's status, a
    reply it owes): the outbox renders it again, even if a flush is under way."""
    session.execute(
        update(Card).where(Card.id == card_id).values(
            dirty=True, dirty_since=func.coalesce(Card.dirty_since, now), changed_at=now,
            version=Card.version + 1)
    )


RENDER_AGAIN_WITHIN = timedelta(days=1)  # cards changed this recently follow a change
MAX_CARDS_RENDERED_AGAIN = 200


def render_pull_cards_again(session: Session, repo: str, now: datetime) -> None:
    """What `repo` allows merging by changed: its pull requests' recent cards are rendered
    again, so their Merge button follows."""
    ids = session.scalars(
        select(Card.id).where(Card.repo == repo.lower(), Card.pr_number.is_not(None),
                              Card.superseded_by.is_(None),
                              Card.changed_at >= now - RENDER_AGAIN_WITHIN)
        .order_by(Card.changed_at.desc()).limit(MAX_CARDS_RENDERED_AGAIN))
    for card_id in list(ids):
        mark_dirty(session, card_id, now)


def oldest_dirty(db: Database) -> datetime | None:
    """When the oldest card Slack does not show yet became dirty (None: Slack is current)."""
    with db.read() as session:
        since: datetime | None = session.scalar(
            select(func.min(Card.dirty_since)).where(Card.dirty.is_(True)))
        return since
