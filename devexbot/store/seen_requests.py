"""The `seen_requests` table: the Slack requests the bot has taken, by the key they are
remembered by, so that a replayed request is answered once on every replica sharing the
database. Rows go once they are older than a request can be replayed."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import Index, String, delete
from sqlalchemy.orm import Mapped, mapped_column

from correlation.slack_requests import REMEMBER_FOR
from devexbot.store.engine import Database
from devexbot.store.models import Base, UTCDateTime
from devexbot.store.upsert import insert_for


class SeenRequest(Base):
    __tablename__ = "seen_requests"
    __table_args__ = (Index("ix_seen_requests_seen_at", "seen_at"),)

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime)


class SeenRequests:
    """Remembers the keys of the requests taken, for `REMEMBER_FOR` seconds."""

    def __init__(self, db: Database, *, clock: Callable[[], datetime]) -> None:
        self._db, self._clock = db, clock

    def first_sighting(self, key: str) -> bool:
        """Record `key`; True when no replica had recorded it before. A second replica
        inserting the same key waits for the first's commit and finds it there."""
        now = self._clock()
        with self._db.write() as session:
            stmt = (insert_for(session, SeenRequest).values(key=key, seen_at=now)
                    .on_conflict_do_nothing(index_elements=["key"])
                    .returning(SeenRequest.key))
            first = session.execute(stmt).first() is not None
            if first:  # the table keeps only what can still come back
                session.execute(delete(SeenRequest).where(
                    SeenRequest.seen_at < now - timedelta(seconds=REMEMBER_FOR)))
        return first
