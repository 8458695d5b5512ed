"""Who decided what on which request: one row per (request, person) in `approvals`.

The unique constraint is what makes a double click, or Slack's retry of the same click,
count once, on every replica; distinct people are what count toward `required`.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from correlation.approval_request import ApprovalRequest
from devexbot.store import ApprovalDecision, Database
from devexbot.store.models import utcnow


@dataclass(frozen=True)
class Decider:
    slack_user: str
    github_login: str | None


@dataclass(frozen=True)
class Tally:
    """The request's approvals after recording one person's decision."""

    approvers: tuple[Decider, ...]  # in the order they approved
    new: bool  # the decision was recorded now (not a repeat of the same decision)
    position: int  # the person's place among the approvers, 1-based; 0 if they rejected

    @property
    def count(self) -> int:
        return len(self.approvers)


class Ledger:
    """The `approvals` table: each person's decision on each request."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def record(self, request: ApprovalRequest, *, user: str, login: str | None,
               decision: str, reason: str | None = None) -> Tally:
        """Record `user`'s decision; a person's later decision replaces their earlier one."""
        now = utcnow()
        new = True
        try:
            with self._db.write() as session:
                session.add(ApprovalDecision(
                    request=request.key, repo=request.repo, sha=request.sha,
                    environment=request.environment, slack_user=user, github_login=login,
                    decision=decision, reason=reason, at=now))
        except IntegrityError:
            with self._db.write() as session:
                row = session.scalar(select(ApprovalDecision).where(
                    ApprovalDecision.request == request.key, ApprovalDecision.slack_user == user
                ).with_for_update())
                assert row is not None
                new = row.decision != decision
                if new:
                    row.decision, row.reason, row.at = decision, reason, now
        approvers = self.approvers_of(request.key)
        position = next((i for i, d in enumerate(approvers, 1) if d.slack_user == user), 0)
        return Tally(approvers=approvers, new=new, position=position)


    def approvers_of(self, key: str) -> tuple[Decider, ...]:
        """Who approved the request, in the order they did."""
        with self._db.read() as session:
            rows = session.execute(
                select(ApprovalDecision.slack_user, ApprovalDecision.github_login)
                .where(ApprovalDecision.request == key, ApprovalDecision.decision == "approved")
                .order_by(ApprovalDecision.id)
            )
            return tuple(Decider(user, login) for user, login in rows)
