"""The `person_prefs` table: each Slack user's notification preferences (`/devex me`, the
Home tab), with their Slack time zone; and `held_dms`: the direct messages their quiet
hours hold until the digest takes them."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, time

from sqlalchemy import Boolean, Index, Integer, String, Text, delete, select
from sqlalchemy.orm import Mapped, mapped_column

from correlation.prefs import NO_PREFS, PrefChange, Prefs, QuietHours
from devexbot.store.engine import Database
from devexbot.store.models import Base, UTCDateTime
from devexbot.store.upsert import insert_for


class PersonPrefsRow(Base):
    __tablename__ = "person_prefs"

    slack_user: Mapped[str] = mapped_column(String(32), primary_key=True)
    dm_failures: Mapped[bool] = mapped_column(Boolean, default=False)
    dm_reviews: Mapped[bool] = mapped_column(Boolean, default=False)
    mute_own: Mapped[bool] = mapped_column(Boolean, default=False)
    quiet: Mapped[str | None] = mapped_column(String(11))  # `22:00-08:00`
    tz: Mapped[str | None] = mapped_column(String(64))  # Slack's `tz`, e.g. Europe/Paris
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class HeldDm(Base):
    __tablename__ = "held_dms"
    __table_args__ = (Index("ix_held_dms_user", "slack_user", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slack_user: Mapped[str] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(Text)
    held_at: Mapped[datetime] = mapped_column(UTCDateTime)


@dataclass(frozen=True)
class Held:
    id: int
    at: datetime
    text: str


class PrefsStore:
    """Reads and changes people's preferences; holds and hands back their quiet-hour DMs."""

    def __init__(self, db: Database, *, clock: Callable[[], datetime]) -> None:
        self._db, self._clock = db, clock

    def get(self, user: str) -> Prefs:
        return self.get_many([user]).get(user, NO_PREFS)

    def get_many(self, users: Iterable[str]) -> dict[str, Prefs]:
        """The preferences of those of `users` who chose any."""
        wanted = sorted({u for u in users if u})
        if not wanted:
            return {}
        with self._db.read() as session:
            rows = session.scalars(select(PersonPrefsRow)
                                   .where(PersonPrefsRow.slack_user.in_(wanted)))
            return {row.slack_user: _prefs(row) for row in rows}

    def with_quiet_hours(self) -> dict[str, Prefs]:
        """Everyone who set quiet hours."""
        with self._db.read() as session:
            rows = session.scalars(select(PersonPrefsRow)
                                   .where(PersonPrefsRow.quiet.is_not(None)))
            return {row.slack_user: _prefs(row) for row in rows}

    def change(self, user: str, change: PrefChange, *, tz: str | None = None) -> Prefs:
        """Apply `change` to `user`'s preferences (and record their time zone, if given);
        the preferences now."""
        with self._db.write() as session:
            row = session.get(PersonPrefsRow, user, with_for_update=True)
            before = _prefs(row) if row is not None else NO_PREFS
            after = change.applied(before)
            values = {"dm_failures": after.dm_failures, "dm_reviews": after.dm_reviews,
                      "mute_own": after.mute_own,
                      "quiet": str(after.quiet) if after.quiet else None,
                      "tz": tz or before.tz, "updated_at": self._clock()}
            stmt = insert_for(session, PersonPrefsRow).values(slack_user=user, **values)
            session.execute(stmt.on_conflict_do_update(index_elements=["slack_user"],
                                                       set_=values))
        return Prefs(after.dm_failures, after.dm_reviews, after.mute_own, after.quiet,
                     tz or before.tz)

    def hold(self, user: str, text: str) -> None:
        """Keep a direct message for `user`'s digest."""
        with self._db.write() as session:
            session.add(HeldDm(slack_user=user, text=text, held_at=self._clock()))

    def held(self, user: str) -> list[Held]:
        with self._db.read() as session:
            return [Held(row.id, row.held_at, row.text) for row in session.scalars(
                select(HeldDm).where(HeldDm.slack_user == user).order_by(HeldDm.id))]

    def holding(self) -> list[str]:
        """The people some DM is held for."""
        with self._db.read() as session:
            return sorted(set(session.scalars(select(HeldDm.slack_user))))

    def release(self, ids: Iterable[int]) -> int:
        """Forget held DMs (the digest took them); how many were still there."""
        with self._db.write() as session:
            gone = session.execute(delete(HeldDm).where(HeldDm.id.in_(list(ids))))
            return int(gone.rowcount or 0)  # type: ignore[attr-defined]


def _prefs(row: PersonPrefsRow) -> Prefs:
    quiet = None
    if row.quiet:
        start, _, end = row.quiet.partition("-")
        quiet = QuietHours(time.fromisoformat(start), time.fromisoformat(end))
    return Prefs(bool(row.dm_failures), bool(row.dm_reviews), bool(row.mute_own), quiet,
                 row.tz)
