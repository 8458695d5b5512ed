"""Where the bot's timing parts read the time and wait: the system's clock, or one a test
steps (the outbox's coalescing and pacing, ticket retries, the scheduler's jobs)."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Protocol

from devexbot.store.models import utcnow


class Clock(Protocol):
    def now(self) -> datetime:
        """Wall-clock time, in UTC."""
        ...

    def monotonic(self) -> float:
        """Seconds that only move forward, for intervals."""
        ...

    def sleep(self, seconds: float) -> None: ...


class SystemClock:
    def now(self) -> datetime:
        return utcnow()

    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


SYSTEM_CLOCK: Clock = SystemClock()
