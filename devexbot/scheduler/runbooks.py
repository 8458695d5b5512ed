"""Scheduled runbooks: a command with `schedule: "0 6 * * 1-5"` runs as the bot on that cron.

The scheduler only knows when; what a run is (the command's parameters, its channel, the
audit entry) is the runbook launcher's business, the same launcher a slash command uses.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from apscheduler.triggers.cron import CronTrigger

from devexbot.config.commands import CommandSpec
from devexbot.scheduler.service import JobSpec

SCHEDULER_USER = "scheduler"  # who a scheduled run is by, in the audit
MISFIRE_GRACE = 3600  # a run more than an hour late (the bot was down) is skipped


class RunbookLauncher(Protocol):
    """Starts a runbook command as the bot, posting to `channel`, audited as by `by`;
    returns one line on how it started (the run's id, say)."""

    def __call__(self, command: str, *, params: Mapping[str, str], channel: str | None,
                 by: str) -> str: ...


@dataclass(frozen=True)
class ScheduledRunbook:
    """A runbook command with a five-field cron (in the schedule's time zone)."""

    command: str
    cron: str
    params: Mapping[str, str] = field(default_factory=dict)
    channel: str | None = None

    def trigger(self, timezone: str) -> CronTrigger:
        """The cron as a trigger; a ValueError names what is wrong with it."""
        return CronTrigger.from_crontab(self.cron, timezone=timezone)


def scheduled_runbooks(commands: Mapping[str, CommandSpec]) -> list[ScheduledRunbook]:
    """The config's commands with a `schedule:`, each run in the first of its channels."""
    return [ScheduledRunbook(command=name, cron=spec.schedule, channel=spec.channels[0])
            for name, spec in commands.items() if spec.schedule and spec.channels]


def runbook_jobs(runbooks: Sequence[ScheduledRunbook], launcher: RunbookLauncher,
                 *, timezone: str) -> list[JobSpec]:
    """One job per scheduled command, calling the launcher as the bot."""

    def job(runbook: ScheduledRunbook) -> JobSpec:
        def run(_now: object) -> str:
            return launcher(runbook.command, params=dict(runbook.params),
                            channel=runbook.channel, by=SCHEDULER_USER)

        return JobSpec(id=f"runbook:{runbook.command}", trigger=runbook.trigger(timezone),
                       run=run, description=f"runbook {runbook.command} ({runbook.cron})",
                       misfire_grace_time=MISFIRE_GRACE)

    return [job(runbook) for runbook in runbooks]
