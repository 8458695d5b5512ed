"""Slack's rate limits, kept on our side: ~1 post per second per channel, `chat.update`
and `conversations.history` each within tier 3, and a channel's `Retry-After` honoured for
that channel only.

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
    # conversations.history (looking for a post that may have landed) is tier 3 too: rate
    # and burst together stay within 50 in any minute.
    history_rate: float = 40 / 60
    history_burst: float = 10


class _Bucket:
    """A token bucket: `rate` tokens a second, at most `burst` kept."""

    def __init__(self, rate: float, burst: float, now: float) -> None:
        self.rate, self.burst = rate, burst
        self._tokens, self._at = burst, now

    def tokens(self, now: float) -> float:
        self._tokens = min(self.burst, self._tokens + (now - self._at) * self.rate)
        self._at = now
        return self._tokens

    def take(self, now: float, keep: float = 0.0) -> bool:
        """Take a token if one is left beyond `keep`."""
        if self.tokens(now) < 1 + keep:
            return False
        self._tokens -= 1
        return True

    def wait(self, now: float) -> float:
        """Seconds until a token is there."""
        return max(0.0, (1 - self.tokens(now)) / self.rate)


class _Waiters:
    """Spreads those told to wait for a resource over its coming turns, one a turn, so
    that a queue of cards does not all come back (a claim each) for every turn."""

    def __init__(self) -> None:
        self._free_at, self._count = 0.0, 0

    def turn(self, free_at: float, spacing: float) -> float:
        """When the next waiter should come back, the resource being free at `free_at`
        and then every `spacing` seconds."""
        if abs(free_at - self._free_at) > 1e-6:  # a turn was taken: a new queue
            self._free_at, self._count = free_at, 0
        self._count += 1
        return free_at + (self._count - 1) * spacing


class Pacing:
    def __init__(self, limits: Limits = Limits(), clock: Callable[[], float] = time.monotonic
                 ) -> None:
        self.limits = limits
        self._clock = clock
        self._lock = threading.Lock()
        self._next_post: dict[str, float] = {}
        self._blocked: dict[str, float] = {}
        now = clock()
        self._updates = _Bucket(limits.update_rate, limits.update_burst, now)
        self._history = _Bucket(limits.history_rate, limits.history_burst, now)
        self._post_waiters: dict[str, _Waiters] = {}
        self._history_waiters = _Waiters()

    def blocked_for(self, channel: str) -> float:
        """Seconds left of a 429's Retry-After for this channel (0 if none)."""
        with self._lock:
            return max(0.0, self._blocked.get(channel, 0.0) - self._clock())

    def block(self, channel: str, seconds: float) -> None:
        with self._lock:
            self._blocked[channel] = max(self._blocked.get(channel, 0.0),
                                         self._clock() + seconds)

    def take_post(self, channel: str, *, look_first: bool = False) -> bool:
        """Reserve a post to the channel now, if its last post was long enough ago; with
        `look_first`, a `conversations.history` call too (both or neither): a post that
        may have landed is looked for only when it could go out straight after."""
        with self._lock:
            now = self._clock()
            if now < self._blocked.get(channel, 0.0) or now < self._next_post.get(channel, 0.0):
                return False
            if look_first and not self._history.take(now):
                return False
            self._next_post[channel] = now + self.limits.post_interval
            return True

    def post_wait(self, channel: str, *, look_first: bool = False) -> float:
        """Seconds until this caller's turn to try `take_post` again: the cards waiting
        for one channel's posts (or for a look in a channel's history) come back one a
        turn."""
        with self._lock:
            now = self._clock()
            free = max(now, self._blocked.get(channel, 0.0), self._next_post.get(channel, 0.0))
            turn = self._post_waiters.setdefault(channel, _Waiters()).turn(
                free, self.limits.post_interval)
            if look_first:
                turn = max(turn, self._history_turn(now))
            return turn - now

    def take_history(self) -> bool:
        """Reserve one more `conversations.history` call (a further page)."""
        with self._lock:
            return self._history.take(self._clock())

    def history_wait(self) -> float:
        """Seconds until this caller's turn to try `take_history` again."""
        with self._lock:
            now = self._clock()
            return self._history_turn(now) - now

    def _history_turn(self, now: float) -> float:
        return self._history_waiters.turn(now + self._history.wait(now),
                                          1 / self._history.rate)

    def take_update(self, channel: str, *, can_wait: bool = False) -> bool:
        """Reserve one `chat.update` from the workspace-wide tier-3 bucket; an update that
        `can_wait` leaves the bucket's reserve to those that cannot."""
        with self._lock:
            now = self._clock()
            if now < self._blocked.get(channel, 0.0):
                return False
            return self._updates.take(now, self.limits.update_reserve if can_wait else 0.0)


class Deferred(Exception):
    """Slack's limits say not now: the card stays dirty and is tried again after `seconds`."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"deferred {seconds:.1f}s")
        self.seconds = seconds
