"""Who decided what on which request: one row per (request, person) in `approvals`.

A click is counted inside one transaction that holds the request's lock (SQLite's write
lock; on PostgreSQL a transaction-level advisory lock on the request), so people clicking
at once are counted one after the other: `correlation.approval_votes.cast` decides each
against the decisions committed before it, and the tally a reply gives is the one that
decided. The unique constraint stays as the last word on (request, person).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from correlation.approval_request import ApprovalRequest
from correlation.approval_votes import Ballot, VoteOutcome, cast
from devexbot.store import ApprovalDecision, Database
from devexbot.store.models import utcnow

LOCK_NAMESPACE = 0x61707072  # "appr": the first key of the request locks (pg_advisory_xact_lock)
# The order decisions were counted in (a changed mind counts from when it changed).
_COUNTED_ORDER = (ApprovalDecision.at, ApprovalDecision.id)


@dataclass(frozen=True)
class Decider:
    slack_user: str
    github_login: str | None


@dataclass(frozen=True)
class Tally:
    """The request's approvals as the click that made it left them."""

    approvers: tuple[Decider, ...]  # in the order they approved
    outcome: VoteOutcome
    position: int  # the person's place among the approvers, 1-based; 0 if not one of them

    @property
    def count(self) -> int:
        return len(self.approvers)

    @property
    def new(self) -> bool:
        """The decision was recorded now (not a repeat, not too late to count)."""
        return self.outcome is VoteOutcome.COUNTED

    @property
    def late(self) -> bool:
        """Enough people had approved before this approval: it was not counted."""
        return self.outcome is VoteOutcome.LATE


class Ledger:
    """The `approvals` table: each person's decision on each request."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def record(self, request: ApprovalRequest, *, user: str, login: str | None,
               decision: str, required: int = 1, reason: str | None = None) -> Tally:
        """Count `user`'s decision, under the request's lock: a person's later decision
        replaces their earlier one, and an approval after `required` people approved is
        not counted."""
        with self._db.write() as session:
            self._lock(session, request.key)
            rows = list(session.scalars(select(ApprovalDecision)
                                        .where(ApprovalDecision.request == request.key)
                                        .order_by(*_COUNTED_ORDER)))
            vote = cast([Ballot(r.slack_user, r.decision) for r in rows], user, decision,
                        required)
            if vote.record:
                mine = next((r for r in rows if r.slack_user == user), None)
                if mine is None:
                    mine = ApprovalDecision(
                        request=request.key, repo=request.repo, sha=request.sha,
                        environment=request.environment, slack_user=user)
                    session.add(mine)
                    rows.append(mine)
                mine.github_login, mine.decision, mine.reason, mine.at = (
                    login, decision, reason, utcnow())
            logins = {r.slack_user: r.github_login for r in rows}
        approvers = tuple(Decider(u, logins.get(u)) for u in vote.approvers)
        return Tally(approvers=approvers, outcome=vote.outcome, position=vote.position)

    def approvers_of(self, key: str) -> tuple[Decider, ...]:
        """Who approved the request, in the order they did."""
        return tuple(d for d, decision in self.decisions_of(key) if decision == "approved")

    def decisions_of(self, key: str) -> tuple[tuple[Decider, str], ...]:
        """Every recorded decision on the request, in the order they were recorded."""
        with self._db.read() as session:
            rows = session.execute(
                select(ApprovalDecision.slack_user, ApprovalDecision.github_login,
                       ApprovalDecision.decision)
                .where(ApprovalDecision.request == key)
                .order_by(*_COUNTED_ORDER)
            )
            return tuple((Decider(user, login), decision) for user, login, decision in rows)

    def _lock(self, session: Session, key: str) -> None:
        """Hold the request until the transaction ends. SQLite's write transactions take
        the database's write lock at BEGIN, which already serialises them."""
        if self._db.is_sqlite:
            return
        digest = int.from_bytes(hashlib.sha256(key.encode()).digest()[:4], "big", signed=True)
        session.execute(select(func.pg_advisory_xact_lock(LOCK_NAMESPACE, digest)))
