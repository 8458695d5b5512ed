"""The background workers (outbox, ticket updates): one thread each, and a restart works."""

from __future__ import annotations

import threading

from devexbot.polling import PollingWorker
from tests.slack_app import wait_for


def _threads(name: str) -> int:
    return sum(1 for t in threading.enumerate() if t.name == name)


def test_a_second_start_keeps_one_thread_and_a_stopped_worker_starts_again() -> None:
    runs: list[int] = []
    worker = PollingWorker(lambda: runs.append(1), name="test-polling-worker", poll=0.01)
    # First an app started twice on the same services, then the same services served again
    # after a stop.
    for starts, what in ((2, "the first run"), (1, "a run after the restart")):
        runs.clear()
        for _ in range(starts):
            worker.start()
        try:
            wait_for(lambda: runs, what=what)
            assert _threads("test-polling-worker") == 1
        finally:
            worker.stop()
        assert _threads("test-polling-worker") == 0
