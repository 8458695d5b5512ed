"""A card's history: every event stored for it, in order of event time, with its links."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from correlation.checklist import STATUS_EMOJI
from correlation.mrkdwn import safe_url
from correlation.status import Status
from devexbot.store import EventRecord

MAX_EVENTS = 500
# Links an event's data may hold, and what the timeline calls them, in this order.
_LINKS = (("url", "open"), ("html_url", "on GitHub"), ("log_url", "log"), ("job_url", "job"))
_TEXTS = ("summary", "description", "comment")
_STATUSES = frozenset(s.value for s in Status)


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    source: str
    kind: str
    name: str
    status: str | None
    emoji: str
    text: str | None
    links: list[tuple[str, str]]


def timeline(session: Session, card_id: int, *, limit: int = MAX_EVENTS
             ) -> tuple[list[TimelineEntry], int]:
    """The card's first `limit` events by event time, and how many it has in all."""
    total = session.scalar(select(func.count()).where(EventRecord.card_id == card_id)) or 0
    rows = session.scalars(
        select(EventRecord).where(EventRecord.card_id == card_id)
        .order_by(EventRecord.at, EventRecord.id).limit(limit)
    )
    return [_entry(row) for row in rows], total


def _entry(row: EventRecord) -> TimelineEntry:
    data: dict[str, Any] = row.data or {}
    status = Status(row.status) if row.status and row.status in _STATUSES else None
    name = str(data.get("display_name") or row.name)
    text = next((str(data[k]) for k in _TEXTS if isinstance(data.get(k), str) and data[k]), None)
    if row.kind == "commit":
        field, _, origin = row.name.partition(":")
        name = f"{field} (from {origin})" if origin else field
        value = data.get("value")
        text = _commit_value(value)
    links: list[tuple[str, str]] = []
    for key, label in _LINKS:
        url = data.get(key)
        if isinstance(url, str) and safe_url(url) and url not in {u for _, u in links}:
            links.append((label, url))
    if row.kind == "commit" and row.name.startswith("url:") and safe_url(data.get("value")):
        links.append(("commit", str(data["value"])))
        text = None
    return TimelineEntry(at=row.at, source=row.source, kind=row.kind, name=name,
                         status=status.value if status else None,
                         emoji=STATUS_EMOJI[status] if status else "•", text=text, links=links)


def _commit_value(value: object) -> str | None:
    if isinstance(value, dict):
        shown = [str(v) for v in (value.get("name"), value.get("login")) if v]
        return " · ".join(shown) or None
    if isinstance(value, str) and value:
        return value.strip().splitlines()[0][:300]
    return None
