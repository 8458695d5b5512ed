"""Which nudges and card notes are due: pure decisions from a card, what was already sent
and `now`, so they are tested with a controllable clock and no database.

A nudge is due once per interval: the k-th interval of a wait (k = waited // limit) has
the notification key `…:<k>`, and only the current interval's key is ever sent. After a
downtime a card gets one nudge for the interval it is in, never one for each it missed.
Nudges go out in working time only; what fell due in quiet time goes at the next start
of working hours.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from correlation.approval_request import standing
from correlation.approval_state import RequestState
from correlation.calendar import WorkingCalendar
from correlation.card import CommitCard, DeploymentLine, iso
from correlation.events import Slot
from correlation.policies import NoticePolicy, Policies
from correlation.reminders import (
    APPROVAL_EXPIRED,
    approval_expired_note,
    approval_expiry_noted,
    stuck_note,
)
from correlation.status import Status

STUCK_ACTION = "stuck"
EXPIRED_ACTION = APPROVAL_EXPIRED
MAX_KEY_PART = 80  # a notification key holds 255 characters


@dataclass(frozen=True)
class NudgeSubject:
    """A card as the nudges see it: the card, its route's limits, what was sent on it,
    and what the card's JSON does not hold (when its PR became ready, who is asked)."""

    card: CommitCard
    notices: NoticePolicy
    sent: frozenset[str] = frozenset()
    review_since: datetime | None = None
    requested_reviewers: tuple[str, ...] = ()


@dataclass(frozen=True)
class Nudge:
    kind: str  # review | approval
    key: str  # the notification key: sent once per card
    number: int  # the how-manieth nudge about this wait
    limit: int  # at most this many
    waited: timedelta  # working time for reviews, clock time for approvals
    environment: str | None = None
    logins: tuple[str, ...] = ()  # requested reviewers, or the deployment's reviewers
    expires_in: timedelta | None = None


@dataclass(frozen=True)
class CardNote:
    """A note the scheduler stamps on a card: it stays until the slot it is about has news."""

    action: str
    name: str  # the stamp's slot name: a newer note on the same thing replaces the older
    text: str
    check: Slot | None = None  # the check it is about, or
    environment: str | None = None  # the deployment it is about


def due_nudges(subject: NudgeSubject, now: datetime, calendar: WorkingCalendar,
               policies: Policies) -> list[Nudge]:
    """The nudges to send about this card now (none in quiet time); `policies` say when
    approval requests expire."""
    if subject.card.superseded_by or not calendar.is_working_time(now):
        return []
    review = _review_nudge(subject, now, calendar)
    return ([review] if review else []) + _approval_nudges(subject, now, policies)


def waits_for_review(card: CommitCard) -> bool:
    """An open, non-draft PR at this head with neither an approval nor requested changes."""
    pr = card.pull_request
    return (pr is not None and pr.state == "open" and not pr.draft and not card.superseded_by
            and pr.head_sha in (None, card.sha)
            and pr.review not in ("approved", "changes_requested"))


def _review_nudge(subject: NudgeSubject, now: datetime,
                  calendar: WorkingCalendar) -> Nudge | None:
    card = subject.card
    pr = card.pull_request
    if pr is None or not waits_for_review(card) or subject.review_since is None:
        return None
    limit = subject.notices.review_nudge_after
    waited = calendar.working_time(subject.review_since, now)
    prefix = f"nudge:review:{pr.number}:{iso(subject.review_since)}:"
    return _nudge(subject, "review", prefix, waited, limit,
                  logins=subject.requested_reviewers)


def _approval_nudges(subject: NudgeSubject, now: datetime, policies: Policies) -> list[Nudge]:
    nudges = []
    limit = subject.notices.approval_nudge_after
    for deployment in waiting_deployments(subject.card):
        found = standing(subject.card, deployment, policies, now)
        if found is None or found.state is not RequestState.WAITING:
            continue  # expired (the card says so) or decided: nobody is nudged any more
        waited = now - deployment.updated_at
        prefix = f"nudge:approval:{_key_part(deployment.environment)}:{iso(deployment.updated_at)}:"
        nudge = _nudge(
            subject, "approval", prefix, waited, limit,
            environment=deployment.environment,
            logins=deployment.approval.reviewers if deployment.approval else (),
            expires_in=found.facts.expires_in(now),
        )
        if nudge:
            nudges.append(nudge)
    return nudges


def _nudge(subject: NudgeSubject, kind: str, prefix: str, waited: timedelta,
           limit: timedelta, **fields: Any) -> Nudge | None:
    """The nudge of the interval `waited` is in, unless it was sent or enough were."""
    max_nudges = subject.notices.max_nudges
    if limit <= timedelta(0) or max_nudges == 0:
        return None
    interval = int(waited / limit)
    key = f"{prefix}{interval}"
    if interval < 1 or key in subject.sent:
        return None
    sent = sum(1 for k in subject.sent if k.startswith(prefix))
    if sent >= max_nudges:
        return None
    return Nudge(kind=kind, key=key, number=sent + 1, limit=max_nudges, waited=waited,
                 **fields)


def waiting_deployments(card: CommitCard) -> list[DeploymentLine]:
    return [d for d in card.deployments if d.status is Status.WAITING]


def expired_approvals(card: CommitCard, now: datetime, policies: Policies) -> list[CardNote]:
    """Notes for expired approval requests (`approvals.<env>.expires_after`), not yet on
    the card."""
    if card.superseded_by:
        return []
    notes = []
    for deployment in waiting_deployments(card):
        environment = deployment.environment
        found = standing(card, deployment, policies, now)
        expires = found.facts.expires_after if found else None
        if found is None or found.state is not RequestState.EXPIRED or expires is None \
                or approval_expiry_noted(card, environment):
            continue  # waiting, decided, noted already, or expired under a span since removed
        name = f"{EXPIRED_ACTION}:{_key_part(environment)}"
        notes.append(CardNote(EXPIRED_ACTION, name, approval_expired_note(environment, expires),
                              environment=environment))
    return notes


def stuck_checks(card: CommitCard, now: datetime, notices: NoticePolicy) -> list[CardNote]:
    """Notes for checks `running` with no news for longer than `stuck_after`, where the card
    does not already say so in these words. The check keeps its status."""
    after = notices.stuck_after
    if after <= timedelta(0) or card.superseded_by:
        return []
    shown = {stamp.text for stamp in card.stamps if stamp.action == STUCK_ACTION}
    notes = []
    for check in card.checks:
        silent = now - check.updated_at
        if check.status is not Status.RUNNING or silent < after:
            continue
        text = stuck_note(check.name, silent)
        if text not in shown:
            name = f"{STUCK_ACTION}:{_key_part(':'.join(check.slot))}"
            notes.append(CardNote(STUCK_ACTION, name, text, check=check.slot))
    return notes


def _key_part(text: str) -> str:
    """`text` if short, else a digest of it: keys and slot names have length limits."""
    if len(text) <= MAX_KEY_PART:
        return text
    return text[:40] + "~" + hashlib.sha256(text.encode()).hexdigest()[:16]
