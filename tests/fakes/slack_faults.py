"""Scripted misbehaviour for the fake Slack: rate limits, server errors, slow or lost answers."""

from __future__ import annotations

import random
import threading
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass

ANY_METHOD = "*"

# What Slack puts in `error` alongside these statuses.
DEFAULT_ERRORS = {
    429: "ratelimited",
    500: "internal_error",
    502: "service_unavailable",
    503: "service_unavailable",
    504: "request_timeout",
}


@dataclass(frozen=True)
class Fault:
    """One scripted misbehaviour.

    kind "fail": answer `status` with `{"ok": false, "error": error}` and do nothing.
    kind "hang": do the call, then hold the answer `seconds` (the client may time out
    although Slack did act: the ambiguous case a retrying publisher must survive).
    kind "drop": hold `seconds`, do nothing, close the connection without an answer.
    """

    kind: str
    status: int = 200
    error: str | None = None
    retry_after: int | None = None
    seconds: float = 0.0
    label: str = ""

    @property
    def body(self) -> dict[str, object]:
        return {"ok": False, "error": self.error or DEFAULT_ERRORS.get(self.status, "fatal_error")}

    @property
    def headers(self) -> dict[str, str]:
        if self.retry_after is None:
            return {}
        return {"Retry-After": str(self.retry_after)}


def failure(status: int, retry_after: int | None, error: str | None, label: str = "fail") -> Fault:
    if status == 429 and retry_after is None:
        retry_after = 1
    return Fault("fail", status=status, error=error, retry_after=retry_after, label=label)


class FaultScript:
    """Thread-safe queue of faults per method, an optional random failure rate, and an
    optional outage: every call failing until a moment."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queues: dict[str, deque[Fault]] = {}
        self._rate: tuple[float, tuple[Fault, ...], frozenset[str] | None] | None = None
        self._rng = random.Random()
        self._outage: tuple[float, Fault] | None = None

    def push(self, method: str, fault: Fault, times: int) -> None:
        if times < 1:
            raise ValueError("times must be at least 1")
        with self._lock:
            self._queues.setdefault(method, deque()).extend([fault] * times)

    def set_rate(
        self, fraction: float, fault: Fault | Iterable[Fault], seed: int | None,
        methods: Iterable[str] | None
    ) -> None:
        """Fail each call with probability `fraction`, with `fault` or one of several at random."""
        if not 0.0 <= fraction <= 1.0:
            raise ValueError("fraction must be within [0, 1]")
        faults = (fault,) if isinstance(fault, Fault) else tuple(fault)
        if not faults:
            raise ValueError("at least one fault")
        with self._lock:
            self._rng = random.Random(seed)
            only = frozenset(methods) if methods is not None else None
            self._rate = (fraction, faults, only) if fraction > 0 else None

    def set_outage(self, until: float, fault: Fault) -> None:
        """Every call arriving before `until` (on the fake's monotonic clock) gets `fault`."""
        with self._lock:
            self._outage = (until, fault)

    def take(self, method: str, at: float = float("-inf")) -> Fault | None:
        """The fault for this call arriving `at`, if any: an outage, the method's queue,
        then `*`, then the rate."""
        with self._lock:
            if self._outage is not None and at < self._outage[0]:
                return self._outage[1]
            for key in (method, ANY_METHOD):
                queue = self._queues.get(key)
                if queue:
                    return queue.popleft()
            if self._rate is not None:
                fraction, faults, only = self._rate
                if (only is None or method in only) and self._rng.random() < fraction:
                    return faults[0] if len(faults) == 1 else self._rng.choice(faults)
        return None

    def pending(self) -> int:
        with self._lock:
            return sum(len(q) for q in self._queues.values())

    def clear(self) -> None:
        with self._lock:
            self._queues.clear()
            self._rate = None
            self._outage = None
