"""Tickets' titles and statuses, cached in the database so every replica shares them.

Filled by the card lookups (`TicketDirectory.lookup`, which asks Jira for what is missing or
older than the TTL) and read by the flush and the API (`cached_info`, which never calls
out). Jira being down never stops a lookup: the last known answer stays, and Jira is not
asked again for a minute.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from correlation.tickets import is_jira_key
from devexbot.clients.jira import JiraClient, JiraError
from devexbot.store import Database, TicketInfo
from devexbot.store.models import utcnow
from devexbot.store.upsert import insert_for

log = logging.getLogger(__name__)

RETRY_AFTER_ERROR = timedelta(seconds=60)
LOOKUP_TIMEOUT = 3.0  # seconds: a lookup waits this long at most for a slow Jira
MAX_FETCHES = 10  # per lookup: a card shows 5 tickets; the rest wait for its next change


@dataclass(frozen=True)
class Known:
    title: str | None
    status: str | None
    found: bool = True


def cached_info(session: Session, keys: Iterable[str]) -> dict[str, Known]:
    """What the cache knows of these keys, however old."""
    wanted = sorted({k for k in keys if is_jira_key(k)})
    if not wanted:
        return {}
    rows = session.scalars(select(TicketInfo).where(TicketInfo.key.in_(wanted)))
    return {r.key: Known(r.title, r.status, r.found) for r in rows if r.fetched_at is not None}


def with_info(tickets: Sequence[Mapping[str, Any]], known: Mapping[str, Known]
              ) -> tuple[dict[str, Any], ...]:
    """The card's tickets with the titles and statuses known for them."""
    out = []
    for ticket in tickets:
        entry = dict(ticket)
        info = known.get(str(entry.get("key")))
        if info is not None and info.found:
            entry["title"], entry["status"] = info.title, info.status
        out.append(entry)
    return tuple(out)


class TicketDirectory:
    """The cache with Jira behind it."""

    def __init__(self, db: Database, jira: JiraClient, *, ttl: float = 300.0,
                 clock: Callable[[], datetime] = utcnow) -> None:
        self.db, self.jira, self.clock = db, jira, clock
        self.ttl = timedelta(seconds=ttl)

    def lookup(self, keys: Iterable[str]) -> dict[str, Known]:
        """Titles and statuses, asking Jira for the keys the cache has no fresh answer for."""
        wanted = sorted({k for k in keys if is_jira_key(k)})
        if not wanted:
            return {}
        now = self.clock()
        with self.db.read() as session:
            rows = {r.key: r for r in session.scalars(
                select(TicketInfo).where(TicketInfo.key.in_(wanted)))}
        stale = [key for key in wanted if key not in rows or self._stale(rows[key], now)]
        for key in stale[:MAX_FETCHES]:
            if not self.refresh(key):
                break  # Jira is down: the other keys wait too
        with self.db.read() as session:
            return cached_info(session, wanted)

    def _stale(self, row: TicketInfo, now: datetime) -> bool:
        if row.error is not None:  # Jira failed last time: give it a minute
            return row.checked_at + RETRY_AFTER_ERROR <= now
        return row.fetched_at is None or row.fetched_at + self.ttl <= now

    def refresh(self, key: str) -> bool:
        """Ask Jira about one ticket and keep the answer; False if Jira could not say."""
        now = self.clock()
        try:
            issue = self.jira.issue(key, timeout=LOOKUP_TIMEOUT)
        except JiraError as exc:
            log.info("cannot read %s from Jira: %s", key, exc.message)
            self._store(key, now, error=exc.message)
            return False
        if issue is None:
            self._store(key, now, found=False)
        else:
            self._store(key, now, title=issue.title, status=issue.status)
        return True

    def _store(self, key: str, now: datetime, *, title: str | None = None,
               status: str | None = None, found: bool = True, error: str | None = None) -> None:
        values: dict[str, Any] = {"checked_at": now, "error": error}
        if error is None:
            values.update(title=title, status=(status or "")[:100] or None, found=found,
                          fetched_at=now)
        with self.db.write() as session:
            stmt = insert_for(session, TicketInfo).values(key=key, **{"found": True, **values})
            session.execute(stmt.on_conflict_do_update(index_elements=["key"], set_=values))
