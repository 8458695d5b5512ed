"""`devexbot jobs`: each stored job with its schedule, next run and last result, one a line."""

from __future__ import annotations

import pickle
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import inspect, select

from devexbot.errors import DatabaseError
from devexbot.scheduler.leader import lock_holder
from devexbot.scheduler.service import JOBS_TABLE, last_results
from devexbot.store import Database, SchedulerJob


def job_lines(db: Database) -> list[str]:
    """The lines `devexbot jobs` prints; a schema without the jobs table is an error."""
    if not inspect(db.engine).has_table(JOBS_TABLE):
        raise DatabaseError("the database has no scheduler tables: run `devexbot db upgrade`")
    with db.read() as session:
        stored = list(session.execute(
            select(SchedulerJob.id, SchedulerJob.next_run_time, SchedulerJob.job_state)
            .order_by(SchedulerJob.id)))
    results = last_results(db)
    if not stored:
        return ["no jobs stored yet: the scheduler stores them when `devexbot serve` starts"]
    width = max(len(job_id) for job_id, _, _ in stored)
    lines = []
    for job_id, next_run, state in stored:
        when = _trigger(state)
        next_text = _time(datetime.fromtimestamp(next_run, UTC)) if next_run else "paused"
        last = results.get(job_id)
        last_text = (f"last {_time(last.started_at)} {last.result}: {last.detail or ''}"
                     f" (on {last.runner})" if last else "never ran")
        lines.append(f"{job_id:<{width}}  {when}  next {next_text}  {last_text}".rstrip())
    if not db.is_sqlite:
        with db.engine.connect() as conn:
            leader = lock_holder(conn)
        lines.append(f"leader: {leader}" if leader else "leader: none (no replica runs jobs)")
    return lines


def _trigger(state: bytes) -> str:
    """How often a job runs, read from its stored state (our own table, so unpickled)."""
    try:
        job: dict[str, Any] = pickle.loads(state)  # noqa: S301 - written by our scheduler
    except Exception:
        return "(unreadable)"
    trigger = job.get("trigger")
    return f"{trigger}" if trigger is not None else "(no trigger)"


def _time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%SZ")
