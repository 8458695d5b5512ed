"""The audit entries of a card (who clicked what, and what came of it), for its page."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from devexbot.store import AuditEntry as AuditRow
from devexbot.store import Card


@dataclass(frozen=True)
class AuditEntry:
    at: datetime
    who: str  # a Slack user id (and GitHub login when the people: map knows it)
    action: str  # merge | retry | approve | reject | ...
    result: str  # ok | refused | failed | duplicate
    detail: str | None = None


def audit_entries(session: Session, card: Card) -> list[AuditEntry]:
    """The card's audit entries, oldest first."""
    rows = session.scalars(
        select(AuditRow)
        .where(AuditRow.repo == card.repo, AuditRow.sha == card.sha)
        .order_by(AuditRow.at, AuditRow.id)
    )
    return [
        AuditEntry(
            at=row.at,
            who=f"{row.slack_user} ({row.github_login})" if row.github_login else row.slack_user,
            action=row.action.removeprefix("card."),
            result=row.result,
            detail=row.detail,
        )
        for row in rows
    ]
