"""A background thread that runs one job again and again: woken at once by news in this
process, and polling so it sees what other replicas wrote."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from devexbot.errors import in_words

log = logging.getLogger(__name__)

MAX_PAUSE = 30.0  # seconds between tries while the job keeps failing


class PollingWorker:
    def __init__(self, job: Callable[[], object], *, name: str, poll: float) -> None:
        self._job, self.name, self.poll = job, name, poll
        self._wake, self._stop = threading.Event(), threading.Event()
        self._thread: threading.Thread | None = None

    def wake(self) -> None:
        self._wake.set()

    def start(self) -> None:
        """Start the thread; a worker that runs already keeps its one thread, and one that
        was stopped starts again."""
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread:
            self._thread.join(timeout)

    def _run(self) -> None:
        failures = 0
        while not self._stop.is_set():
            self._wake.wait(self._pause(failures))
            self._wake.clear()
            try:
                self._job()
                failures = 0
            except Exception:
                failures += 1  # the database away, say: wait longer each time, not flood
                log.exception("%s failed; trying again in %s", self.name,
                              in_words(self._pause(failures)))

    def _pause(self, failures: int) -> float:
        return float(min(self.poll * 2 ** failures, max(MAX_PAUSE, self.poll)))
