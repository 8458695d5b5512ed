"""Catch-up's part of the composition root: the job the scheduler's leader runs every few
minutes, and its figures on `/metrics`."""

from __future__ import annotations

import logging
from datetime import UTC

from apscheduler.triggers.interval import IntervalTrigger

from devexbot.catchup import CatchUpJob, CatchUpMetrics, watched_hooks
from devexbot.catchup.discovery import HookDiscovery
from devexbot.clients.github_hooks import HookLog
from devexbot.clock import Clock
from devexbot.config import BotConfig
from devexbot.http.metrics import Metrics
from devexbot.scheduler.service import JobSpec
from devexbot.settings import Settings
from devexbot.store import Database
from devexbot.store.catchup import CatchUpLedger

log = logging.getLogger(__name__)

JOB_ID = "catch-up"


def catch_up_jobs(settings: Settings, config: BotConfig, db: Database,
                  metrics: Metrics, clock: Clock) -> list[JobSpec]:
    """The catch-up job, when there are hooks to watch and credentials to read them."""
    ledger = CatchUpLedger(db)
    metrics.registry.register(CatchUpMetrics(ledger))
    deliveries = HookLog(settings)
    hooks = watched_hooks(config.github, app=deliveries.is_app)
    settings_ = config.github.catch_up
    discovery = None
    if config.github.discover_hooks:
        if settings.devexbot_public_url is None:
            log.warning("github.discover_hooks needs DEVEXBOT_PUBLIC_URL (the bot's hooks "
                        "are found by their URL); only github.hooks are watched")
        else:
            discovery = HookDiscovery(
                deliveries, ledger, lookback=settings_.policy().lookback,
                bot_url=settings.devexbot_public_url.rstrip("/") + "/webhooks/github")
    if not settings_.enabled or not (hooks or discovery) or not deliveries.configured:
        return []
    job = CatchUpJob(hooks, deliveries, ledger, policy=settings_.policy(),
                     max_pages=settings_.max_pages,
                     ask_spacing=settings_.ask_spacing_seconds, sleep=clock.sleep,
                     discovery=discovery)
    # A run missed while the bot was down happens at once when it is back (coalesced).
    return [JobSpec(JOB_ID, IntervalTrigger(minutes=settings_.every_minutes, timezone=UTC),
                    job.run, "redeliveries of what GitHub's hook logs hold and the bot "
                    "never stored")]
