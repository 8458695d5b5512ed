"""A card's history: every event stored for it, in order of event time, in people's words
(`correlation.timeline` says which are headlines and which bookkeeping), with its links."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from markupsafe import Markup
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from correlation.events import Event
from correlation.mrkdwn import safe_url
from correlation.status import Status
from correlation.timeline import moments
from devexbot.store import EventRecord
from devexbot.store.catchup import caught_up
from devexbot.web.mrkdwn_html import Names, no_names
from devexbot.web.view import marked_line

MAX_EVENTS = 500
# Links an event's data may hold, and what the timeline calls them, in this order.
_LINKS = (("url", "details"), ("html_url", "on GitHub"), ("log_url", "log"), ("job_url", "job"))
_TEXTS = ("summary", "description", "comment")
_STATUSES = frozenset(s.value for s in Status)


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    source: str
    headline: bool  # False: bookkeeping, folded away on the page
    what: Markup
    status: str | None
    text: str | None
    links: list[tuple[str, str]]
    caught_up: bool = False  # its delivery came back because catch-up asked GitHub for it


@dataclass(frozen=True)
class Timeline:
    entries: list[TimelineEntry]
    total: int  # events stored for the card; more than `entries` when past the limit

    @property
    def headlines(self) -> list[TimelineEntry]:
        return [e for e in self.entries if e.headline]

    @property
    def bookkeeping(self) -> list[TimelineEntry]:
        return [e for e in self.entries if not e.headline]


def timeline(session: Session, card_id: int, *, limit: int = MAX_EVENTS,
             names: Names = no_names) -> Timeline:
    """The card's first `limit` events by event time, and how many it has in all; `names`
    says who Slack user ids are."""
    total = session.scalar(select(func.count()).where(EventRecord.card_id == card_id)) or 0
    rows = list(session.scalars(
        select(EventRecord).where(EventRecord.card_id == card_id)
        .order_by(EventRecord.at, EventRecord.id).limit(limit)
    ))
    recovered = caught_up(session, (row.delivery_pk for row in rows))
    entries = []
    for row, said in zip(rows, moments([_event(row) for row in rows]), strict=True):
        line = marked_line(said.what, names)  # a stamp's emoji becomes its icon
        status = said.status.value if said.status else None
        if status is None and line.status != "none":
            status = line.status
        entries.append(_entry(row, said.headline, line.html, status,
                              caught_up=row.delivery_pk in recovered))
    return Timeline(entries, total)


def _event(row: EventRecord) -> Event:
    status = Status(row.status) if row.status and row.status in _STATUSES else None
    at = row.at if row.at.tzinfo else row.at.replace(tzinfo=UTC)
    return Event(repo=row.repo, sha=row.sha, source=row.source, kind=row.kind, name=row.name,
                 at=at, status=status, data=row.data or {})


def _entry(row: EventRecord, headline: bool, what: Markup, status: str | None, *,
           caught_up: bool = False) -> TimelineEntry:
    data: dict[str, Any] = row.data or {}
    text = next((str(data[k]) for k in _TEXTS if isinstance(data.get(k), str) and data[k]), None)
    links: list[tuple[str, str]] = []
    for key, label in _LINKS:
        url = data.get(key)
        if isinstance(url, str) and safe_url(url) and url not in {u for _, u in links}:
            links.append((label, url))
    if row.kind == "commit" and row.name.startswith("url:") and safe_url(data.get("value")):
        links.append(("commit", str(data["value"])))
    return TimelineEntry(at=row.at, source=row.source, headline=headline, what=what,
                         status=status, text=text, links=links, caught_up=caught_up)
