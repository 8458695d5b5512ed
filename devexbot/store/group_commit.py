"""Group commit: many callers' writes made by one thread, several to a transaction.

Callers hand in an item and wait on a future. A writer thread takes whatever has queued up
while the previous transaction was committing and hands the lot to `work` at once, so
under load the cost of a transaction (begin, locks, commit, fsync) is paid once per batch,
not once per item; with one caller at a time a batch is one item and nothing waits longer
than its own write. The thread starts on the first item and ends after a second idle.

A batch that fails is retried item by item, so a bad item fails alone and the others are
still written; each caller gets its own item's result or exception.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from typing import Generic, TypeVar

log = logging.getLogger(__name__)

Item = TypeVar("Item")
Result = TypeVar("Result")


class GroupCommit(Generic[Item, Result]):
    def __init__(
        self,
        work: Callable[[Sequence[Item]], Sequence[Result]],
        *,
        max_batch: int = 256,
        idle_seconds: float = 1.0,
        name: str = "group-commit",
    ) -> None:
        self.work = work
        self.max_batch = max_batch
        self.idle_seconds = idle_seconds
        self.name = name
        self._queue: queue.SimpleQueue[tuple[Item, Future[Result]]] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def submit(self, item: Item) -> Future[Result]:
        future: Future[Result] = Future()
        with self._lock:
            self._queue.put((item, future))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
                self._thread.start()
        return future

    def _run(self) -> None:
        while True:
            try:
                first = self._queue.get(timeout=self.idle_seconds)
            except queue.Empty:
                with self._lock:  # submit() holds it to queue: nothing slips in unseen
                    if self._queue.empty():
                        self._thread = None
                        return
                continue
            batch = [first]
            while len(batch) < self.max_batch:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            self._write(batch)

    def _write(self, batch: list[tuple[Item, Future[Result]]]) -> None:
        pending = [(item, future) for item, future in batch
                   if future.set_running_or_notify_cancel()]
        if not pending:
            return
        try:
            results = self.work([item for item, _ in pending])
        except BaseException as exc:
            if len(pending) == 1:
                pending[0][1].set_exception(exc)
                return
            log.info("%s: a batch of %d failed (%s); writing its items one by one",
                     self.name, len(pending), type(exc).__name__)
            for item, future in pending:
                try:
                    future.set_result(self.work([item])[0])
                except BaseException as single:
                    future.set_exception(single)
            return
        for (_, future), result in zip(pending, results, strict=True):
            future.set_result(result)
