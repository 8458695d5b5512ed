"""The scheduler: nudges, stuck builds, scheduled runbooks and retention, on one replica.

`build_scheduler(...)` puts the bot's jobs together; `devexbot serve` starts it (see
`service` for the job store and `leader` for the election).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC

from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from devexbot.clock import Clock
from devexbot.config import Retention, Schedule
from devexbot.scheduler.card_jobs import CardJobs
from devexbot.scheduler.leader import Leadership
from devexbot.scheduler.retention import prune
from devexbot.scheduler.runbooks import RunbookLauncher, ScheduledRunbook, runbook_jobs
from devexbot.scheduler.service import JobSpec, Scheduler
from devexbot.store import Database

__all__ = ["JobSpec", "RunbookLauncher", "ScheduledRunbook", "Scheduler", "build_scheduler",
           "runbook_jobs"]


def build_scheduler(
    db: Database,
    cards: CardJobs,
    *,
    schedule: Schedule,
    retention: Retention,
    clock: Clock,
    runbooks: Sequence[JobSpec] = (),
    leadership: Leadership | None = None,
) -> Scheduler:
    """The bot's jobs: nudges and stuck checks every few minutes, retention daily, and the
    scheduled runbooks' jobs (`runbook_jobs`). They go by `clock`."""
    every = schedule.check_every_minutes
    jobs = [
        JobSpec("nudges", IntervalTrigger(minutes=every, timezone=UTC), cards.nudge,
                "review and approval nudges, expired approval requests"),
        JobSpec("stuck-builds", IntervalTrigger(minutes=every, timezone=UTC), cards.mark_stuck,
                "checks running without news"),
        JobSpec("retention",
                CronTrigger(hour=retention.run_at.hour, minute=retention.run_at.minute,
                            timezone=schedule.timezone),
                lambda now: prune(db, retention, now, sleep=clock.sleep).summary(),
                "prune old events and deliveries"),
        *runbooks,
    ]
    return Scheduler(db, jobs, leadership=leadership, clock=clock.now)
