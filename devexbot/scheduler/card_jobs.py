"""The scheduler's work on cards: nudges in a card's thread, expired approval requests and
stuck checks noted on the card. `nudges` decides; this module reads cards and acts.

Notes are stamps: events of the card (source `devexbot`, kind `stamp`) that name the slot
they are about, so the fold drops them as soon as that slot has news, and they publish and
survive restarts like any other news. A note's event carries the time of the news it is
about, not the time it was written, so it never makes a card look newer than it is.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from correlation import Event
from correlation.calendar import WorkingCalendar
from correlation.card import CommitCard, DeploymentLine
from correlation.events import ParseError, Slot, parse_time
from correlation.nudges import (
    CardNote,
    Nudge,
    NudgeSubject,
    due_nudges,
    expired_approvals,
    stuck_checks,
    waits_for_review,
)
from correlation.recipients import Notice, NoticeKind, who_hears
from correlation.reminders import render_approval_nudge, render_review_nudge
from devexbot.clock import Clock
from devexbot.config import ApprovalPolicy, BotConfig
from devexbot.config import Schedule as ScheduleConfig
from devexbot.publish.pacing import Deferred
from devexbot.publish.personal import NoPrefs, PersonPrefs
from devexbot.publish.routing import CardRouter
from devexbot.slack.people import People
from devexbot.store import Card, Database, Notification
from devexbot.store.cards import CardLoader, card_state
from devexbot.store.ingest import Ingest

log = logging.getLogger(__name__)

LOOKBACK = timedelta(days=14)  # cards with no news for longer are left alone
SEND_BUDGET = 60.0  # seconds a run may wait for Slack's pacing; the rest goes next run
_LIVE = ("waiting", "running", "pending", "failure")

Approvers = Callable[[CommitCard, DeploymentLine], Sequence[str]]
"""Who may approve a deployment, as Slack user or group ids (the approval policy)."""


@dataclass
class _Row:
    id: int
    card: CommitCard
    state: dict[Slot, Event]
    channel: str | None
    ts: str | None
    subject: NudgeSubject


@dataclass
class _Tally:
    counts: dict[str, int] = field(default_factory=dict)

    def add(self, what: str, n: int = 1) -> None:
        self.counts[what] = self.counts.get(what, 0) + n

    def summary(self) -> str:
        return ", ".join(f"{what}: {n}" for what, n in self.counts.items() if n) or "nothing due"


class RecentCards:
    """The cards of the last `LOOKBACK` days a job may act on, each with its schedule (its
    route's, or the default) and the nudges already sent about it."""

    def __init__(self, db: Database, card_loader: CardLoader, router: CardRouter,
                 schedule: ScheduleConfig) -> None:
        self._db, self._loader, self._router, self._schedule = db, card_loader, router, schedule

    def rows(self, now: datetime) -> Iterator[_Row]:
        with self._db.read() as session:
            cards = list(session.scalars(
                select(Card)
                .where(Card.superseded_by.is_(None), Card.updated_at >= now - LOOKBACK,
                       or_(Card.pr_number.is_not(None), Card.overall.in_(_LIVE)))
                .order_by(Card.id)
            ))
            sent = self._sent(session, [c.id for c in cards])
            for row in cards:
                if not row.doc:
                    continue  # created, never folded (its first delivery rolled back)
                state = card_state(row)
                card = self._loader.load(row)
                destination = self._router.destination(session, row.doc)
                schedule = self._schedule.for_route(destination.route if destination else None)
                subject = NudgeSubject(card=card, notices=schedule.policy(),
                                       sent=frozenset(sent.get(row.id, ())))
                if waits_for_review(card):
                    subject = _with_review(session, subject, state)
                # A reply in its PR's thread is nudged in that thread.
                yield _Row(row.id, card, state, row.slack_channel,
                           row.slack_thread_ts or row.slack_ts, subject)

    @staticmethod
    def _sent(session: Session, card_ids: list[int]) -> dict[int, set[str]]:
        sent: dict[int, set[str]] = {}
        for start in range(0, len(card_ids), 500):
            for card_id, key in session.execute(
                select(Notification.card_id, Notification.key).where(
                    Notification.card_id.in_(card_ids[start:start + 500]),
                    Notification.key.startswith("nudge:"))
            ):
                sent.setdefault(card_id, set()).add(key)
        return sent


class ReplyOnce(Protocol):
    """Posts a reply under a card once per key (`ReplySender.reply_once`); raises
    `Deferred` while Slack's pace says not now."""

    def __call__(self, card_id: int, channel: str, thread_ts: str | None, keys: list[str],
                 message: Any) -> bool: ...


class Nudges(Protocol):
    def run(self, due: Iterable[tuple[_Row, Nudge]], tally: _Tally, now: datetime) -> str:
        """Send the due nudges, counting them in `tally`; says what the job did."""
        ...


class NoNudges:
    """Slack is off: the nudges wait."""

    def run(self, due: Iterable[tuple[_Row, Nudge]], tally: _Tally, now: datetime) -> str:
        return tally.summary() + " (Slack is off: no nudges)"


class ThreadNudges:
    """Sends nudges in the card's thread, mentioning people by their Slack ids: the
    approvers the policy names, or else the GitHub logins the nudge is for. Nobody in
    their quiet hours is pinged: a nudge leaves them out, and one that would ping only
    such people waits until one of them is back."""

    def __init__(self, reply_once: ReplyOnce, people: People, clock: Clock, *,
                 approvers: Approvers | None = None, prefs: PersonPrefs | None = None) -> None:
        self._reply_once, self._people, self._approvers = reply_once, people, approvers
        self._prefs = prefs or NoPrefs()
        self.clock = clock  # Slack's pacing is waited out on it

    def run(self, due: Iterable[tuple[_Row, Nudge]], tally: _Tally, now: datetime) -> str:
        deadline = self.clock.monotonic() + SEND_BUDGET
        for row, nudge in due:
            outcome = self.send(row, nudge, deadline, now)
            if outcome == "sent":
                tally.add(f"{nudge.kind} nudges")
            elif outcome == "deferred":
                tally.add("nudges left for the next run")
            elif outcome == "quiet":
                tally.add("nudges waiting for quiet hours to end")
        return tally.summary()

    def send(self, row: _Row, nudge: Nudge, deadline: float, now: datetime) -> str:
        """`sent`, `duplicate` (another replica sent it), `deferred` past the budget, or
        `quiet` (everyone it would ping is in their quiet hours: due again next run)."""
        assert row.channel is not None
        message = self._message(row, nudge, now)
        if message is None:
            return "quiet"
        while True:
            try:
                sent = self._reply_once(row.id, row.channel, row.ts, [nudge.key], message)
                return "sent" if sent else "duplicate"
            except Deferred as wait:
                if self.clock.monotonic() + wait.seconds > deadline:
                    return "deferred"
                self.clock.sleep(wait.seconds)

    def _message(self, row: _Row, nudge: Nudge, now: datetime) -> Any:
        """The nudge as sent now; None when everyone it would ping is in quiet hours."""
        people, card = self._people, row.card
        if nudge.kind == "review":
            pr, author = card.pull_request, card.author
            login = (pr.author if pr else None) or (author.login if author else None)
            reviewers = self._slack_ids(nudge.logins)
            author_id = people.slack_id(login=login, email=author.email if author else None)
            asked = reviewers or ([author_id] if author_id else [])
            heard = self._heard(asked, now)
            if asked and not heard:
                return None
            return render_review_nudge(
                card, reviewers=heard if reviewers else [],
                author=None if reviewers or not heard else heard[0],
                waited=nudge.waited, number=nudge.number, of=nudge.limit)
        assert nudge.environment is not None
        deployment = next(d for d in card.deployments if d.environment == nudge.environment)
        mentions = (list(self._approvers(card, deployment)) if self._approvers is not None
                    else self._slack_ids(nudge.logins))
        heard = self._heard(mentions, now)
        if mentions and not heard:
            return None
        return render_approval_nudge(card, environment=nudge.environment, mentions=heard,
                                     waited=nudge.waited, number=nudge.number, of=nudge.limit,
                                     expires_in=nudge.expires_in)

    def _heard(self, mentions: Sequence[str], now: datetime) -> list[str]:
        """Who of `mentions` a nudge pings now: not those in their quiet hours."""
        heard = who_hears(Notice(NoticeKind.NUDGE, mentions=tuple(mentions)),
                          self._prefs.get_many(mentions), now)
        return list(heard.mentions)

    def _slack_ids(self, logins: Sequence[str]) -> list[str]:
        found = (self._people.slack_id(login=login) for login in logins)
        return [slack_id for slack_id in found if slack_id]


class CardJobs:
    """Nudges and notes for the cards of the last `LOOKBACK` days. With `NoNudges` (Slack
    is off) the notes are made and the nudges wait."""

    def __init__(self, cards: RecentCards, config: BotConfig, ingest: Ingest,
                 nudges: Nudges) -> None:
        self._cards, self._config, self._ingest, self._nudges = cards, config, ingest, nudges
        self._calendar = WorkingCalendar.of(config.schedule.policy())
        self._policies = config.policies()

    def nudge(self, now: datetime) -> str:
        """Send the nudges due now and mark expired approval requests; says what it did."""
        tally = _Tally()
        rows = list(self._cards.rows(now))
        for row in rows:
            for note in expired_approvals(row.card, now, self._policies):
                self._stamp(row, note, now)
                tally.add("expired approval requests")
        due = ((row, nudge) for row in rows
               if row.ts is not None and row.channel is not None  # a message to reply under
               for nudge in due_nudges(row.subject, now, self._calendar, self._policies))
        return self._nudges.run(due, tally, now)

    def mark_stuck(self, now: datetime) -> str:
        """Note on each card the checks running without news for too long."""
        tally = _Tally()
        for row in self._cards.rows(now):
            for note in stuck_checks(row.card, now, row.subject.notices):
                self._stamp(row, note, now)
                tally.add("stuck checks noted")
        return tally.summary()

    def _stamp(self, row: _Row, note: CardNote, now: datetime) -> None:
        """Record the note as a stamp of the card that lasts until its slot has news."""
        about = _slot_of(row.state, note)
        if about is None:
            return
        seen_at = row.state[about].at
        data = {"action": note.action, "text": note.text, "by": None,
                "until_news_of": list(about), "seen_at": seen_at.isoformat()}
        # Notes on one thing replace each other: a note on later news, or written later, wins.
        generation = (int(seen_at.timestamp()), int(now.timestamp()))
        event = Event(repo=row.card.repo, sha=row.card.sha, source="devexbot", kind="stamp",
                      name=note.name, at=seen_at, data=data, generation=generation)
        digest = hashlib.sha256("\0".join(
            [row.card.repo, row.card.sha, note.name, note.text, seen_at.isoformat()]
        ).encode()).hexdigest()
        self._ingest.record(source="devexbot", delivery_id=f"note:{digest}",
                            event_type="stamp", events=[event])


def _with_review(session: Session, subject: NudgeSubject,
                 state: dict[Slot, Event]) -> NudgeSubject:
    """The subject with since when its PR waits for review, and who is asked to."""
    card = subject.card
    pr = card.pull_request
    assert pr is not None
    pr_event = state.get(("github", "pr", str(pr.number)))
    data = pr_event.data if pr_event else {}
    since = _parse(data.get("created_at")) or (pr_event.at if pr_event else None)
    # Marked ready (or reopened) later, perhaps on an earlier head: the clock starts there.
    for other in session.scalars(
        select(Card.state).where(Card.repo == card.repo, Card.pr_number == pr.number)
    ):
        for raw in other or ():
            if raw.get("kind") == "pr_ready" and raw.get("name") == str(pr.number):
                ready = Event.from_dict(raw).at
                since = max(since, ready) if since else ready
    reviewers = tuple(str(r) for r in data.get("requested_reviewers") or ())
    return NudgeSubject(card=card, notices=subject.notices, sent=subject.sent,
                        review_since=since, requested_reviewers=reviewers)


def _slot_of(state: dict[Slot, Event], note: CardNote) -> Slot | None:
    """The slot a note is about: its check's, or the newest approval or deployment slot of
    its environment."""
    if note.check is not None:
        return note.check if note.check in state else None
    env = (note.environment or "").casefold()
    candidates = [e for e in state.values()
                  if e.kind in ("approval", "deployment") and e.name.casefold() == env]
    if not candidates:
        return None
    return max(candidates, key=lambda e: (e.at, e.kind == "approval")).slot


def _parse(value: object) -> datetime | None:
    try:
        return parse_time(value) if value else None
    except ParseError:
        return None


def policy_approvers(approvals: Mapping[str, ApprovalPolicy], people: People) -> Approvers:
    """Who the approval nudges mention: the policy's Slack users and groups, and its
    `github:` logins through the people map."""

    def approvers(card: CommitCard, deployment: DeploymentLine) -> list[str]:
        policy = approvals.get(deployment.environment)
        if policy is None:
            return []
        found = []
        for principal in policy.approvers:
            if principal[:1] in ("U", "W", "S"):
                found.append(principal)
            elif principal.startswith("github:"):
                slack = people.slack_id(login=principal.removeprefix("github:"))
                if slack:
                    found.append(slack)
        return found

    return approvers
