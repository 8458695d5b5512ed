"""Run records and concurrency claims in the database.

Every request to run a command leaves a row: refused, cancelled, or run to its end. A run
holds one of its command's `concurrency` slots (a row whose primary key is the command and
the slot number) while it runs, so a second run is refused on every replica alike; a slot
whose replica died expires after the command's timeout and its run is marked `lost`.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from correlation.card import iso
from devexbot.runbooks.model import RunbookCommand, RunStatus
from devexbot.store import Database, RunbookRun, RunbookSlot
from devexbot.store.models import utcnow

SLOT_SLACK = 120.0  # seconds a slot outlives its command's timeout before it counts as dead
CONFIRM_TTL = timedelta(minutes=10)


@dataclass(frozen=True)
class Requester:
    """Who asked, from where."""

    user_id: str
    channel_id: str
    user_name: str | None = None
    channel_name: str | None = None


@dataclass(frozen=True)
class Busy:
    """No slot is free: `holder` is the oldest run holding one."""

    holder: RunbookRun
    running: int


@dataclass(frozen=True)
class Taken:
    """The confirmation was already used (a double click)."""


class RunStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def record(self, command: RunbookCommand, who: Requester, args: Mapping[str, str],
               status: RunStatus, *, reason: str | None = None,
               rerun_of: int | None = None) -> RunbookRun:
        """A row for a request that does not run now: refused, or awaiting confirmation."""
        with self.db.write() as session:
            run = self._new(command, who, args, status, reason=reason, rerun_of=rerun_of)
            if status.finished:
                run.finished_at = run.created_at
            session.add(run)
            session.flush()
            return run

    def claim(self, command: RunbookCommand, who: Requester, args: Mapping[str, str], *,
              existing: int | None = None, rerun_of: int | None = None
              ) -> RunbookRun | Busy | Taken:
        """Start a run if one of the command's slots is free: a `running` row holding it.

        `existing` is a row awaiting confirmation that becomes the run.
        """
        for _ in range(3):
            claimed = self._claim(command, who, args, existing=existing, rerun_of=rerun_of)
            if claimed is not None:
                return claimed
        raise RuntimeError(f"could not claim a slot of {command.name}, nor find who holds it")

    def _claim(self, command: RunbookCommand, who: Requester, args: Mapping[str, str], *,
               existing: int | None, rerun_of: int | None
               ) -> RunbookRun | Busy | Taken | None:
        self._expire(command.name)
        now = utcnow()
        expires = now + timedelta(seconds=command.timeout + SLOT_SLACK)
        for slot in range(command.concurrency):
            try:
                with self.db.write() as session:
                    if existing is not None:
                        run = session.get(RunbookRun, existing, with_for_update=True)
                        if run is None or run.status != RunStatus.CONFIRMING:
                            return Taken()  # a second click on Run
                    else:
                        run = self._new(command, who, args, RunStatus.RUNNING, rerun_of=rerun_of)
                        session.add(run)
                    run.status, run.started_at = RunStatus.RUNNING, now
                    session.flush()
                    session.add(RunbookSlot(command=command.name, slot=slot, run_id=run.id,
                                            expires_at=expires))
                    session.flush()
                    return run
            except IntegrityError:
                continue  # taken: try the next slot
        with self.db.read() as session:
            holders = list(session.scalars(
                select(RunbookRun).join(RunbookSlot, RunbookSlot.run_id == RunbookRun.id)
                .where(RunbookSlot.command == command.name).order_by(RunbookRun.started_at)))
        return Busy(holders[0], len(holders)) if holders else None  # None: freed meanwhile

    def take_confirmation(self, run_id: int, user_id: str, to: RunStatus) -> RunbookRun | str:
        """Move a run awaiting confirmation on (once: a second click finds it taken)."""
        with self.db.write() as session:
            run = session.get(RunbookRun, run_id, with_for_update=True)
            if run is None or run.user_id != user_id:
                return "That confirmation is not yours."
            if run.status != RunStatus.CONFIRMING:
                return f"That run was already {_past(run.status)}."
            if run.created_at < utcnow() - CONFIRM_TTL:
                run.status, run.finished_at = RunStatus.CANCELLED, utcnow()
                run.reason = "confirmation expired"
                return "That confirmation expired: run the command again."
            if to is not RunStatus.RUNNING:
                run.status, run.finished_at = to, utcnow()
            return run

    def mark_refused(self, run_id: int, reason: str) -> None:
        """Refuse a run that awaited confirmation (and nothing that already started)."""
        with self.db.write() as session:
            session.execute(update(RunbookRun).where(
                RunbookRun.id == run_id, RunbookRun.status == RunStatus.CONFIRMING).values(
                status=RunStatus.REFUSED, reason=reason, finished_at=utcnow()))

    def messages(self, run_id: int, *, channel: str, ts: str | None,
                 reply_ts: str | None) -> None:
        with self.db.write() as session:
            session.execute(update(RunbookRun).where(RunbookRun.id == run_id).values(
                slack_channel=channel, slack_ts=ts, slack_reply_ts=reply_ts))

    def progress(self, run_id: int, *, output_tail: str, url: str | None) -> None:
        with self.db.write() as session:
            session.execute(update(RunbookRun).where(
                RunbookRun.id == run_id, RunbookRun.status == RunStatus.RUNNING,
            ).values(output_tail=output_tail, url=url))

    def finish(self, run_id: int, *, status: RunStatus, exit_code: int | None,
               output_tail: str, url: str | None, reason: str | None) -> RunbookRun:
        """Record the end and free the slot, in one transaction."""
        with self.db.write() as session:
            run = session.get(RunbookRun, run_id, with_for_update=True)
            assert run is not None
            run.status, run.exit_code, run.finished_at = status, exit_code, utcnow()
            run.output_tail, run.url, run.reason = output_tail, url, reason
            session.execute(delete(RunbookSlot).where(RunbookSlot.run_id == run_id))
            return run

    def get(self, run_id: int) -> RunbookRun | None:
        with self.db.read() as session:
            return session.get(RunbookRun, run_id)

    def recent(self, *, limit: int, command: str | None = None,
               visible: Collection[str] | None = None, user_id: str | None = None
               ) -> list[RunbookRun]:
        """Runs newest first, none awaiting confirmation: of `command` if given, and of the
        `visible` commands or the user's own if those are given."""
        query = select(RunbookRun).where(RunbookRun.status != RunStatus.CONFIRMING)
        if command is not None:
            query = query.where(RunbookRun.command == command)
        if visible is not None:
            shown = RunbookRun.command.in_(list(visible))
            query = query.where(shown | (RunbookRun.user_id == user_id) if user_id else shown)
        with self.db.read() as session:
            return list(session.scalars(
                query.order_by(RunbookRun.created_at.desc(), RunbookRun.id.desc()).limit(limit)))

    def _expire(self, command: str) -> None:
        now = utcnow()
        with self.db.write() as session:
            dead = list(session.scalars(select(RunbookSlot.run_id).where(
                RunbookSlot.command == command, RunbookSlot.expires_at < now)))
            if not dead:
                return
            session.execute(delete(RunbookSlot).where(RunbookSlot.run_id.in_(dead)))
            session.execute(update(RunbookRun).where(
                RunbookRun.id.in_(dead), RunbookRun.status == RunStatus.RUNNING,
            ).values(status=RunStatus.LOST, finished_at=now,
                     reason="the bot running it stopped answering"))

    @staticmethod
    def _new(command: RunbookCommand, who: Requester, args: Mapping[str, str],
             status: RunStatus, *, reason: str | None = None,
             rerun_of: int | None = None) -> RunbookRun:
        return RunbookRun(command=command.name, executor=command.executor,
                          user_id=who.user_id, user_name=who.user_name,
                          channel=who.channel_id, channel_name=who.channel_name,
                          args=dict(args), status=status, reason=reason,
                          created_at=utcnow(), rerun_of=rerun_of)


def _past(status: str) -> str:
    return {"cancelled": "cancelled", "refused": "refused"}.get(status, "started")


def run_json(run: RunbookRun) -> dict[str, Any]:
    """A run as `GET /api/runs` serves it."""
    return {
        "id": run.id,
        "command": run.command,
        "executor": run.executor,
        "user": run.user_id,
        "user_name": run.user_name,
        "args": run.args,
        "channel": run.channel,
        "channel_name": run.channel_name,
        "status": run.status,
        "reason": run.reason,
        "created_at": iso(run.created_at),
        "started_at": iso(run.started_at),
        "finished_at": iso(run.finished_at),
        "duration_s": (round((run.finished_at - run.started_at).total_seconds(), 3)
                       if run.finished_at and run.started_at else None),
        "exit_code": run.exit_code,
        "output_tail": run.output_tail,
        "url": run.url,
        "slack": ({"channel": run.slack_channel, "ts": run.slack_ts,
                   "reply_ts": run.slack_reply_ts} if run.slack_ts else None),
        "rerun_of": run.rerun_of,
        "hidden": False,
    }

