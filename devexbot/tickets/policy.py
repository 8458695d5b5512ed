"""How the ticket updates' worker paces itself: polling, leases, and back-off on failure."""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True)
class TicketPolicy:
    poll: float = 5.0  # seconds between looks for due rows (ingest also wakes the worker)
    lease: float = 120.0
    retry_base: float = 30.0
    retry_max: float = 3600.0

    def backoff(self, attempts: int) -> float:
        """Seconds to wait after the `attempts`-th failed try: doubling, capped, jittered."""
        wait = min(self.retry_max, self.retry_base * 2.0 ** (attempts - 1))
        return wait * random.uniform(0.8, 1.2)  # noqa: S311 - jitter
