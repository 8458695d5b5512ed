"""Catch-up: after the bot was down, the scheduler's leader reads GitHub's webhook delivery
logs and asks GitHub to redeliver what the bot never stored (`CatchUpJob`); the
redeliveries come in through the signed webhook endpoint like any delivery."""

from devexbot.catchup.job import CatchUpJob, watched_hooks
from devexbot.catchup.metrics import CatchUpMetrics

__all__ = ["CatchUpJob", "CatchUpMetrics", "watched_hooks"]
