"""APScheduler with its job store in the bot's database, running jobs only while leading.

Every replica starts a paused `BackgroundScheduler` on the shared `scheduler_jobs` table
(APScheduler's SQLAlchemyJobStore, created by our migrations). The elected leader writes
the job definitions and resumes; a replica that loses leadership pauses. A job keeps its
stored next run time across restarts and leader changes, so runs missed meanwhile happen
once (`coalesce`), not once per missed interval.

Jobs are stored as a reference to `run_job` and the job's id: the work itself is looked up
in the `Scheduler` whose thread pool runs it, so nothing but names is pickled, and a run
handed to a stopped scheduler's pool never reaches another scheduler.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.base import BaseTrigger
from sqlalchemy import inspect, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError

from devexbot.scheduler.leader import AdvisoryLockLeader, Leadership, SoleLeader
from devexbot.store import Database, SchedulerResult
from devexbot.store.engine import WRITE, make_engine
from devexbot.store.models import utcnow
from devexbot.store.replica import replica_name

log = logging.getLogger(__name__)

JOBS_TABLE = "scheduler_jobs"
JOB_FUNCTION = "devexbot.scheduler.service:run_job"
MAX_DETAIL = 2000


@dataclass(frozen=True)
class JobSpec:
    """A scheduled job: when it runs, and what it does (returns one line saying what it did)."""

    id: str
    trigger: BaseTrigger
    run: Callable[[datetime], str]
    description: str
    # Seconds late a run may still start; None: however late (after a downtime, once).
    misfire_grace_time: int | None = None


class Scheduler:
    """The bot's scheduler: start it on every replica; the leader runs the jobs."""

    def __init__(
        self,
        db: Database,
        jobs: Sequence[JobSpec],
        *,
        leadership: Leadership | None = None,
        clock: Callable[[], datetime] = utcnow,
        workers: int = 4,
    ) -> None:
        self.db = db
        self.specs = {spec.id: spec for spec in jobs}
        self.leadership = leadership or (SoleLeader() if db.is_sqlite
                                         else AdvisoryLockLeader(db.url))
        self.clock = clock
        self.runner = replica_name()
        self._workers = workers
        self._aps: BackgroundScheduler | None = None
        self._change = threading.Lock()

    @property
    def aps(self) -> BackgroundScheduler | None:
        """The running APScheduler (None when stopped), to inspect or reschedule its jobs."""
        return self._aps

    # --- life -----------------------------------------------------------------------------

    def start(self) -> bool:
        """Start paused, then lead when elected; False if it cannot start here."""
        if self._aps is not None:
            return True  # started already
        try:
            ready = inspect(self.db.engine).has_table(JOBS_TABLE)
        except SQLAlchemyError as exc:
            log.error("scheduler: cannot reach the database (%s); no scheduled jobs run",
                      exc.__class__.__name__)
            return False
        if not ready:
            # The job store would create the table our migrations own: leave it to them.
            log.error("scheduler: the database has no %s table (run `devexbot db upgrade`); "
                      "no scheduled jobs run", JOBS_TABLE)
            return False
        # An engine of its own: the job store disposes of it when it shuts down.
        engine = make_engine(self.db.url).execution_options(**WRITE)
        self._aps = BackgroundScheduler(
            jobstores={"default": SQLAlchemyJobStore(engine=engine, tablename=JOBS_TABLE)},
            executors={"default": _OwnedPool(self, self._workers)},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
            timezone=UTC,
        )
        self._aps.start(paused=True)
        self.leadership.start(self._on_leadership)
        return True

    def stop(self) -> None:
        if self._aps is None:
            return
        self.leadership.stop()
        if self._aps.running:
            self._aps.shutdown(wait=False)
        self._aps = None

    def _on_leadership(self, leading: bool) -> None:
        with self._change:
            aps = self._aps
            if aps is None or not aps.running:
                return
            if not leading:
                aps.pause()
                return
            try:
                self._sync_jobs(aps)
            except Exception:
                log.exception("scheduler: could not update the stored jobs; running them as "
                              "they are")
            aps.resume()

    def _sync_jobs(self, aps: BackgroundScheduler) -> None:
        """Store this version's jobs; a job whose trigger is unchanged keeps its next run."""
        stored = {job.id: job for job in aps.get_jobs()}
        for spec in self.specs.values():
            job = stored.get(spec.id)
            if job is not None and _signature(job.trigger) == _signature(spec.trigger) \
                    and job.name == spec.description and job.func_ref == JOB_FUNCTION \
                    and job.misfire_grace_time == spec.misfire_grace_time:
                continue
            aps.add_job(JOB_FUNCTION, trigger=spec.trigger, args=[spec.id], id=spec.id,
                        name=spec.description, replace_existing=True, coalesce=True,
                        max_instances=1, misfire_grace_time=spec.misfire_grace_time)
        for job_id in stored.keys() - self.specs.keys():
            aps.remove_job(job_id)  # no longer configured

    # --- running --------------------------------------------------------------------------

    def run(self, job_id: str) -> None:
        """Run one job now, if this process leads, and record how it went."""
        spec = self.specs.get(job_id)
        if spec is None:
            log.warning("scheduler: no job %r in this version; skipped", job_id)
            return
        if not self.leadership.confirm():
            log.info("scheduler: not the leader; %s skipped", job_id)
            return
        started = self.clock()
        try:
            detail, result = spec.run(started), "ok"
        except Exception as exc:
            log.exception("scheduled job %s failed", job_id)
            detail, result = f"{type(exc).__name__}: {exc}", "failed"
        self._record(job_id, started, result, detail)

    def _record(self, job_id: str, started: datetime, result: str, detail: str) -> None:
        values = {"job_id": job_id, "started_at": started, "finished_at": self.clock(),
                  "result": result, "detail": detail[:MAX_DETAIL], "runner": self.runner}
        insert = (postgresql.insert if not self.db.is_sqlite else sqlite.insert)(
            SchedulerResult)
        try:
            with self.db.write() as session:
                session.execute(insert.values(**values).on_conflict_do_update(
                    index_elements=["job_id"],
                    set_={k: v for k, v in values.items() if k != "job_id"}))
        except Exception:
            log.exception("scheduler: could not record the result of %s", job_id)


def _signature(trigger: BaseTrigger) -> str:
    return f"{type(trigger).__name__}:{trigger}:{getattr(trigger, 'timezone', '')}"


def last_results(db: Database) -> dict[str, SchedulerResult]:
    with db.read() as session:
        return {r.job_id: r for r in session.scalars(select(SchedulerResult))}


# --- the stored jobs' entry point ---------------------------------------------------------

_owner = threading.local()


def _bind(scheduler: Scheduler) -> None:
    _owner.scheduler = scheduler


class _OwnedPool(ThreadPoolExecutor):  # type: ignore[misc]
    """APScheduler's thread pool, whose threads run jobs for one `Scheduler` only."""

    def __init__(self, scheduler: Scheduler, workers: int) -> None:
        super().__init__(workers, pool_kwargs={"initializer": _bind, "initargs": (scheduler,)})


def run_job(job_id: str) -> None:
    """What APScheduler calls (by reference, from the job store): the job of the scheduler
    whose pool runs this thread, unless it has stopped since the run was handed over."""
    scheduler: Scheduler | None = getattr(_owner, "scheduler", None)
    if scheduler is None or scheduler.aps is None:
        log.info("scheduler: %s was due as its scheduler stopped; skipped", job_id)
        return
    scheduler.run(job_id)
