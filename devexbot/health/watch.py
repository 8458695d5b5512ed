"""The watch: each service the bot is configured to use is checked at start, again while it
is down (backing off from `first` to `longest`), and every `every` while nothing else was
heard from it. It says once, in one line, when a service goes down and when it is back."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta

from devexbot.clock import Clock
from devexbot.errors import in_words
from devexbot.health.readiness import NAMES, Readiness
from devexbot.health.reasons import failure_reason

log = logging.getLogger(__name__)

Probe = Callable[[], object]
"""A cheap call to the service; whatever it raises says why the service is not usable."""


class Watch:
    def __init__(self, readiness: Readiness, probes: Mapping[str, Probe], clock: Clock, *,
                 first: float = 5.0, longest: float = 300.0, every: float = 300.0) -> None:
        self.readiness, self.clock = readiness, clock
        self.probes = {name: probe for name, probe in probes.items()
                       if readiness.configured(name)}
        self.first, self.longest, self.every = first, longest, every
        self._failures = dict.fromkeys(self.probes, 0)
        self._next: dict[str, datetime] = {}  # not there: due now
        self._stop = threading.Event()
        self._first_round = threading.Event()
        self._thread: threading.Thread | None = None

    def check_due(self) -> float | None:
        """Check the services that are due; seconds until the next is (None: none to watch)."""
        now = self.clock.now()
        for name, probe in self.probes.items():
            seen = self.readiness.get(name)
            if seen.state == "up" and self._failures[name]:
                self._back(name)  # a call of the bot's own got through
            elif seen.state == "down" and not self._failures[name] and name in self._next \
                    and seen.checked_at is not None:
                # A call of the bot's own failed: look again soon, not at the next round.
                self._next[name] = min(self._next[name],
                                       seen.checked_at + timedelta(seconds=self.first))
            if seen.state == "up" and seen.checked_at is not None:
                self._next[name] = max(self._next.get(name, now),
                                       seen.checked_at + timedelta(seconds=self.every))
            if self._next.get(name, now) <= now:
                self._check(name, probe)
        if not self._next:
            return None
        return max((min(self._next.values()) - self.clock.now()).total_seconds(), 0.0)

    def _check(self, name: str, probe: Probe) -> None:
        before = self.readiness.get(name)
        try:
            probe()
        except Exception as exc:  # any failure is the service's state, said in one line
            seen = self.readiness.get(name)
            if seen is not before and seen.error is not None:
                error = seen.error  # the client said it already, in its words
            else:
                error = failure_reason(exc)
                self.readiness.down(name, error)
            self._failures[name] += 1
            wait = min(self.first * 2 ** (self._failures[name] - 1), self.longest)
            self._next[name] = self.clock.now() + timedelta(seconds=wait)
            if self._failures[name] == 1:
                log.warning("%s is down: %s; checking again in %s", NAMES[name], error,
                            in_words(wait))
            else:
                log.debug("%s is still down: %s; checking again in %s", NAMES[name], error,
                          in_words(wait))
            return
        self.readiness.up(name)
        if self._failures[name]:
            self._back(name)
        self._next[name] = self.clock.now() + timedelta(seconds=self.every)

    def _back(self, name: str) -> None:
        log.info("%s answers again", NAMES[name])
        self._failures[name] = 0

    # --- in a thread of its own, when the bot serves ------------------------------------

    def start(self) -> None:
        if self._thread is not None or not self.probes:
            self._first_round.set()
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="watch", daemon=True)
        self._thread.start()

    def wait_first_round(self, timeout: float) -> bool:
        """Wait for the first checks (at most `timeout` s): whether they are done."""
        return self._first_round.wait(timeout)

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                wait = self.check_due()
            except Exception:  # a bug here must not stop the watching
                log.exception("checking the services failed")
                wait = self.first
            self._first_round.set()
            self._stop.wait(min(wait if wait is not None else self.every, self.first))
