"""The audit entries of a card (who clicked what, and what came of it), for its page."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from devexbot.store import AuditEntry as AuditRow
from devexbot.store import Card
from devexbot.web.mrkdwn_html import Names, no_names


@dataclass(frozen=True)
class AuditEntry:
    at: datetime
    who: str  # the Slack user's name (and GitHub login when the people: map knows it)
    action: str  # merge | retry | approve | reject | ...
    result: str  # ok | refused | failed | duplicate
    detail: str | None = None


def audit_entries(session: Session, card: Card, names: Names = no_names) -> list[AuditEntry]:
    """The card's audit entries, oldest first; `names` says who Slack user ids are."""
    rows = session.scalars(
        select(AuditRow)
        .where(AuditRow.repo == card.repo, AuditRow.sha == card.sha)
        .order_by(AuditRow.at, AuditRow.id)
    )
    return [
        AuditEntry(
            at=row.at,
            who=_who(row, names),
            action=row.action.removeprefix("card."),
            result=row.result,
            detail=row.detail,
        )
        for row in rows
    ]


def _who(row: AuditRow, names: Names) -> str:
    name = names(row.slack_user) or row.slack_user
    login = row.github_login
    return f"{name} ({login})" if login and login != name else name
