"""The scheduler: nudges, stuck builds, scheduled runbooks and retention, on one replica.

`build_scheduler(services)` puts the bot's jobs together; `devexbot serve` starts it (see
`service` for the job store and `leader` for the election).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from devexbot.scheduler.card_jobs import CardJobs
from devexbot.scheduler.leader import Leadership
from devexbot.scheduler.retention import prune
from devexbot.scheduler.runbooks import RunbookLauncher, ScheduledRunbook, runbook_jobs
from devexbot.scheduler.service import JobSpec, Scheduler
from devexbot.store.models import utcnow

if TYPE_CHECKING:
    from devexbot.services import Services

__all__ = ["JobSpec", "RunbookLauncher", "ScheduledRunbook", "Scheduler", "build_scheduler"]


def build_scheduler(
    services: Services,
    *,
    clock: Callable[[], datetime] = utcnow,
    leadership: Leadership | None = None,
) -> Scheduler:
    """The bot's jobs: nudges and stuck checks every few minutes, retention daily, and a
    job per scheduled runbook when a launcher is wired in."""
    config = services.config
    schedule, retention = config.schedule, config.retention
    cards = CardJobs(services, approvers=services.approvers)
    every = schedule.check_every_minutes
    jobs = [
        JobSpec("nudges", IntervalTrigger(minutes=every, timezone=UTC), cards.nudge,
                "review and approval nudges, expired approval requests"),
        JobSpec("stuck-builds", IntervalTrigger(minutes=every, timezone=UTC), cards.mark_stuck,
                "checks running without news"),
        JobSpec("retention",
                CronTrigger(hour=retention.run_at.hour, minute=retention.run_at.minute,
                            timezone=schedule.timezone),
                lambda now: prune(services.db, retention, now).summary(),
                "prune old events and deliveries"),
    ]
    if services.scheduled_runbook_launcher is not None:
        jobs += runbook_jobs(services.scheduled_runbooks, services.scheduled_runbook_launcher,
                             timezone=schedule.timezone)
    return Scheduler(services.db, jobs, leadership=leadership, clock=clock)
