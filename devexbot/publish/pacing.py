"""Slack's rate limits, kept on our side: ~1 post per second per channel, `chat.update`
within tier 3, and a channel's `Retry-After` honoured for that channel only.

The state is per process and soft: a replica that over-reaches gets a 429 and backs off.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Limits:
    post_interval: float = 1.0  # seconds between posts to one channel
    update_rate: float = 50 / 60  # chat.update is tier 3: 50+ per minute
    update_burst: float = 20
    # Updates kept back from cards whose news a later update will overtake (still queued or
    # running, nothing failed or waiting for a human): when the bucket runs low, a card's
    # final state goes out first and the intermediate ones wait or are skipped.
    update_reserve: float = 5


class Pacing:
    def __init__(self, limits: Limits = Limits(), clock: Callable[[], float] = time.monotonic
                 ) -> None:
        self.limits = limits
        self._clock = clock
        self._lock = threading.Lock()
        self._next_post: dict[str, float] = {}
        self._blocked: dict[str, float] = {}
        self._tokens = limits.update_burst
        self._refilled = clock()

    def blocked_for(self, channel: str) -> float:
        """Seconds left of a 429's Retry-After for this channel (0 if none)."""
        with self._lock:
            return max(0.0, self._blocked.get(channel, 0.0) - self._clock())

    def block(self, channel: str, seconds: float) -> None:
        with self._lock:
            self._blocked[channel] = max(self._blocked.get(channel, 0.0),
                                         self._clock() + seconds)

    def take_post(self, channel: str) -> bool:
        """Reserve a post to the channel now, if its last post was long enough ago."""
        with self._lock:
            now = self._clock()
            if now < self._blocked.get(channel, 0.0) or now < self._next_post.get(channel, 0.0):
                return False
            self._next_post[channel] = now + self.limits.post_interval
            return True

    def take_update(self, channel: str, *, can_wait: bool = False) -> bool:
        """Reserve one `chat.update` from the workspace-wide tier-3 bucket; an update that
        `can_wait` leaves the bucket's reserve to those that cannot."""
        with self._lock:
            now = self._clock()
            if now < self._blocked.get(channel, 0.0):
                return False
            self._tokens = min(self.limits.update_burst,
                               self._tokens + (now - self._refilled) * self.limits.update_rate)
            self._refilled = now
            if self._tokens < 1 + (self.limits.update_reserve if can_wait else 0):
                return False
            self._tokens -= 1
            return True


class Deferred(Exception):
    """Slack's limits say not now: the card stays dirty and is tried again after `seconds`."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"deferred {seconds:.1f}s")
        self.seconds = seconds
