"""Catch-up's tables: per watched hook, where in GitHub's delivery log the last complete
cycle stopped and until when GitHub asked the bot to wait (`catchup_hooks`); and every
redelivery the bot asked for (`catchup_asks`), by GUID, which is how a delivery that came
back this way is told apart on the card's timeline."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import BigInteger, Integer, String, Text, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from correlation.catchup import Ask
from devexbot.store.engine import Database
from devexbot.store.models import Base, Card, Delivery, UTCDateTime
from devexbot.store.upsert import insert_for

ERROR_CHARS = 500


class CatchUpHook(Base):
    __tablename__ = "catchup_hooks"

    hook: Mapped[str] = mapped_column(String(200), primary_key=True)  # HookRef.key
    position: Mapped[int | None] = mapped_column(BigInteger)  # newest log entry seen
    last_run_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_complete_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resume_after: Mapped[datetime | None] = mapped_column(UTCDateTime)  # GitHub said wait
    last_error: Mapped[str | None] = mapped_column(Text)


class CatchUpAsk(Base):
    __tablename__ = "catchup_asks"

    guid: Mapped[str] = mapped_column(String(200), primary_key=True)  # X-GitHub-Delivery
    hook: Mapped[str] = mapped_column(String(200), index=True)
    logged_id: Mapped[int] = mapped_column(BigInteger)  # the log entry asked for, last
    asked_at: Mapped[datetime] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=1)


@dataclass(frozen=True)
class HookState:
    position: int | None = None
    resume_after: datetime | None = None


@dataclass(frozen=True)
class HookStatus:
    """What `/readyz` and `/metrics` say of one hook's catch-up."""

    hook: str
    last_run_at: datetime | None
    last_complete_at: datetime | None
    resume_after: datetime | None
    last_error: str | None
    asked: int
    recovered: int  # asked for, and arrived


class CatchUpLedger:
    """Reads and writes catch-up's tables; each call is its own short transaction, so no
    transaction is open while the bot talks to GitHub."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def state(self, hook: str) -> HookState:
        with self._db.read() as session:
            row = session.get(CatchUpHook, hook)
        return HookState() if row is None else HookState(row.position, row.resume_after)

    def stored(self, guids: Iterable[str]) -> set[str]:
        """The GUIDs of these the bot has as GitHub deliveries."""
        wanted = sorted(set(guids))
        if not wanted:
            return set()
        with self._db.read() as session:
            return set(session.scalars(select(Delivery.delivery_id).where(
                Delivery.source == "github", Delivery.delivery_id.in_(wanted))))

    def asks(self, guids: Iterable[str]) -> dict[str, Ask]:
        wanted = sorted(set(guids))
        if not wanted:
            return {}
        with self._db.read() as session:
            rows = session.scalars(select(CatchUpAsk).where(CatchUpAsk.guid.in_(wanted)))
            return {r.guid: _ask(r) for r in rows}

    def unanswered(self, hook: str) -> list[Ask]:
        """The hook's asks whose delivery the bot still does not have."""
        with self._db.read() as session:
            rows = session.scalars(
                select(CatchUpAsk).outerjoin(
                    Delivery, (Delivery.delivery_id == CatchUpAsk.guid)
                    & (Delivery.source == "github"))
                .where(CatchUpAsk.hook == hook, Delivery.id.is_(None)))
            return [_ask(r) for r in rows]

    def asked(self, hook: str, guid: str, logged_id: int, now: datetime) -> None:
        """Record that GitHub accepted a redelivery request (one more attempt)."""
        with self._db.write() as session:
            stmt = insert_for(session, CatchUpAsk).values(
                guid=guid, hook=hook, logged_id=logged_id, asked_at=now, attempts=1)
            session.execute(stmt.on_conflict_do_update(
                index_elements=["guid"],
                set_={"logged_id": logged_id, "asked_at": now,
                      "attempts": CatchUpAsk.attempts + 1}))

    def finished(self, hook: str, position: int | None, now: datetime) -> None:
        """A cycle paged back to where the last one stopped: it becomes the position."""
        self._save(hook, now, position=position, last_complete_at=now, resume_after=None,
                   last_error=None)

    def paused(self, hook: str, until: datetime, now: datetime, reason: str) -> None:
        self._save(hook, now, resume_after=until, last_error=reason[:ERROR_CHARS])

    def failed(self, hook: str, now: datetime, reason: str) -> None:
        self._save(hook, now, last_error=reason[:ERROR_CHARS])

    def _save(self, hook: str, now: datetime, **values: object) -> None:
        with self._db.write() as session:
            row = session.get(CatchUpHook, hook, with_for_update=True)
            if row is None:
                row = CatchUpHook(hook=hook)
                session.add(row)
            row.last_run_at = now
            for name, value in values.items():
                if name == "position" and row.position is not None:
                    value = max(row.position, value) if isinstance(value, int) \
                        else row.position
                setattr(row, name, value)

    def recent_repos(self, since: datetime) -> list[str]:
        """The repositories whose cards had news since then."""
        with self._db.read() as session:
            return sorted(session.scalars(
                select(Card.repo).where(Card.changed_at >= since).distinct()))

    def statuses(self) -> list[HookStatus]:
        with self._db.read() as session:
            asked = dict(session.execute(
                select(CatchUpAsk.hook, func.count()).group_by(CatchUpAsk.hook)).all())
            recovered = dict(session.execute(
                select(CatchUpAsk.hook, func.count())
                .join(Delivery, (Delivery.delivery_id == CatchUpAsk.guid)
                      & (Delivery.source == "github"))
                .group_by(CatchUpAsk.hook)).all())
            rows = session.scalars(select(CatchUpHook).order_by(CatchUpHook.hook)).all()
            return [HookStatus(r.hook, r.last_run_at, r.last_complete_at, r.resume_after,
                               r.last_error, int(asked.get(r.hook, 0)),
                               int(recovered.get(r.hook, 0))) for r in rows]


def _ask(row: CatchUpAsk) -> Ask:
    return Ask(row.guid, row.asked_at, row.attempts, row.logged_id)


def caught_up(session: Session, delivery_pks: Iterable[int]) -> set[int]:
    """Which of these deliveries (row ids) came back because catch-up asked for them."""
    wanted = sorted(set(delivery_pks))
    if not wanted:
        return set()
    return set(session.scalars(
        select(Delivery.id).join(CatchUpAsk, CatchUpAsk.guid == Delivery.delivery_id)
        .where(Delivery.id.in_(wanted), Delivery.source == "github")))

