"""The titles and statuses of a card's tickets, asked of Jira when the cache's answer is
missing or stale (see `TicketDirectory`); the flush reads the cache."""

from __future__ import annotations

from devexbot.lookups.due import DueCard
from devexbot.lookups.found import Found
from devexbot.store import Database
from devexbot.tickets.directory import TicketDirectory, cached_info


class TicketLookup:
    def __init__(self, db: Database, directory: TicketDirectory) -> None:
        self.db, self.directory = db, directory

    def look(self, due: DueCard) -> Found:
        keys = [str(t.get("key")) for t in due.card.tickets]
        if not keys:
            return Found()
        with self.db.read() as session:
            before = cached_info(session, keys)
        # Jira being down is the directory's to wait out: it keeps the last answer.
        return Found(changed=self.directory.lookup(keys) != before)
