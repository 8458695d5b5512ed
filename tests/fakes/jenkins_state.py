"""The fake Jenkins's jobs, queue and builds, and the rules it keeps, with no HTTP (sans-IO).

A triggered build waits in the queue: it answers "waiting" to its first `quiet_polls`
queue polls and for `queue_delay` seconds (Jenkins's quiet period), then starts. A
started build runs until the test finishes it (`finish`) or someone stops it, unless its
job has an `auto_result`. Public methods hold `lock` (re-entrant).
"""

from __future__ import annotations

import copy
import itertools
import math
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

from tests.fakes.jenkins_models import RESULTS, Build, Checkout, Job, Param, QueueItem, Value

T = TypeVar("T")
PERMALINKS: dict[str, Callable[[Build], bool]] = {
    "lastBuild": lambda b: True,
    "lastCompletedBuild": lambda b: not b.building,
    "lastSuccessfulBuild": lambda b: b.result == "SUCCESS",
    "lastStableBuild": lambda b: b.result == "SUCCESS",
    "lastFailedBuild": lambda b: b.result == "FAILURE",
    "lastUnsuccessfulBuild": lambda b: not b.building and b.result != "SUCCESS",
    "lastUnstableBuild": lambda b: b.result == "UNSTABLE",
}
NOT_PARAMETERS = frozenset({"token", "delay", "cause", "json", "Submit", "Jenkins-Crumb"})


class JenkinsError(Exception):
    """An error answer: `status` and the text of Jenkins's error page."""

    def __init__(self, status: int, text: str) -> None:
        super().__init__(f"{status} {text}")
        self.status, self.text = status, text


def parameters_of(spec: Iterable[Param] | Mapping[str, Value] | None) -> list[Param]:
    if spec is None:
        return []
    if isinstance(spec, Mapping):
        return [Param(name, default) for name, default in spec.items()]
    return list(spec)


class JenkinsState:
    """One Jenkins controller: folders and jobs, the build queue, builds and their logs."""

    def __init__(self, *, queue_delay: float = 0.0, quiet_polls: int = 1) -> None:
        self.lock = threading.RLock()
        self.url = "http://127.0.0.1/"  # set by FakeJenkins once its port is known
        self.queue_delay, self.quiet_polls = queue_delay, quiet_polls
        self.jobs: dict[str, Job] = {}
        self.queue: dict[int, QueueItem] = {}
        self._queue_ids = itertools.count(1)

    # ---- jobs ------------------------------------------------------------------------

    def add_job(
        self,
        name: str,
        *,
        parameters: Iterable[Param] | Mapping[str, Value] | None = None,
        kind: str = "freestyle",
        **fields: Any,
    ) -> Job:
        with self.lock:
            parts = name.strip("/").split("/")
            for depth in range(1, len(parts)):
                folder = "/".join(parts[:depth])
                existing = self.jobs.setdefault(folder, Job(folder, kind="folder"))
                if existing.kind != "folder":
                    raise ValueError(f"{folder} is a job, not a folder")
            job = Job("/".join(parts), kind=kind, parameters=parameters_of(parameters), **fields)
            self.jobs[job.full_name] = job
            return job

    def job(self, name: str) -> Job:
        with self.lock:
            found = self.jobs.get(name.strip("/"))
            if found is None:
                raise JenkinsError(404, "Not Found")
            return found

    def children(self, folder: str | None) -> list[Job]:
        prefix = f"{folder}/" if folder else ""
        return [
            j
            for name, j in self.jobs.items()
            if name.startswith(prefix) and "/" not in name[len(prefix) :]
        ]

    def job_url(self, name: str) -> str:
        return self.url + "".join(f"job/{part}/" for part in name.split("/"))

    # ---- queue -----------------------------------------------------------------------

    def enqueue(
        self, name: str, sent: Mapping[str, str], *, user: str, with_parameters: bool
    ) -> QueueItem:
        with self.lock:
            job = self.job(name)
            if job.kind == "folder":
                raise JenkinsError(405, "Method Not Allowed")
            if with_parameters and not job.parameters:
                raise JenkinsError(
                    500, f"java.lang.IllegalStateException: {job.full_name} is not parameterized"
                )
            if not with_parameters and job.parameters:
                raise JenkinsError(400, "Nothing is submitted")
            given = {k: v for k, v in sent.items() if k not in NOT_PARAMETERS}
            effective: dict[str, Value] = {}
            for param in job.parameters:
                try:
                    raw = given.get(param.name)
                    effective[param.name] = (
                        param.default_value if raw is None else param.coerce(raw)
                    )
                except ValueError as exc:
                    raise JenkinsError(500, f"java.lang.IllegalArgumentException: {exc}") from exc
            delay = self.queue_delay if job.queue_delay is None else job.queue_delay
            polls = self.quiet_polls if job.quiet_polls is None else job.quiet_polls
            item = QueueItem(
                next(self._queue_ids),
                job.full_name,
                effective,
                given,
                user,
                time.time(),
                time.monotonic(),
                delay,
                polls,
            )
            self.queue[item.id] = item
            return item

    def queue_item(self, queue_id: int, *, poll: bool = False) -> QueueItem:
        """The item, advanced: a poll counts towards its quiet polls."""
        with self.lock:
            item = self.queue.get(queue_id)
            if item is None:
                raise JenkinsError(404, "Not Found")
            self._advance(item)
            if poll and item.build_number is None and not item.cancelled:
                item.polls += 1
            return item

    def tick(self) -> None:
        """Start every queued build whose quiet period is over."""
        with self.lock:
            for item in list(self.queue.values()):
                self._advance(item)

    def _advance(self, item: QueueItem) -> None:
        if item.build_number is not None or item.cancelled or math.isinf(item.delay):
            return
        waited = time.monotonic() - item.queued_monotonic
        if item.polls >= item.quiet_polls and waited >= item.delay:
            self._start(item)

    def start_queued(self, queue_id: int) -> int:
        """Start the queued build now (whatever its quiet period); returns its number."""
        with self.lock:
            item = self.queue[queue_id]
            if item.cancelled:
                raise ValueError(f"queue item {queue_id} was cancelled")
            if item.build_number is None:
                self._start(item)
            assert item.build_number is not None
            return item.build_number

    def cancel(self, queue_id: int) -> None:
        with self.lock:
            item = self.queue.get(queue_id)
            if item is None:
                raise JenkinsError(404, "Not Found")
            if item.build_number is None:
                item.cancelled = True

    def _start(self, item: QueueItem) -> Build:
        job = self.job(item.job)
        number = job.next_build_number
        job.next_build_number += 1
        build = Build(
            job.full_name,
            number,
            dict(item.parameters),
            item.user,
            item.id,
            int(time.time() * 1000),
            log=f"Started by user {item.user}\n",
            started_monotonic=time.monotonic(),
        )
        job.builds[number] = build
        item.build_number = number
        if job.auto_result is not None:
            build.log += job.auto_log
            self._finish(build, job.auto_result, None)
        return build

    # ---- builds ----------------------------------------------------------------------

    def build(self, name: str, number: int | str) -> Build:
        with self.lock:
            job = self.job(name)
            if isinstance(number, str) and number in PERMALINKS:
                chosen = [b for b in job.builds.values() if PERMALINKS[number](b)]
                if not chosen:
                    raise JenkinsError(404, "Not Found")
                return max(chosen, key=lambda b: b.number)
            try:
                return job.builds[int(number)]
            except (KeyError, ValueError) as exc:
                raise JenkinsError(404, "Not Found") from exc

    def add_build(
        self,
        name: str,
        *,
        number: int | None = None,
        result: str | None = "SUCCESS",
        parameters: Mapping[str, Value] | None = None,
        log: str = "",
        changes: Iterable[Mapping[str, Any]] = (),
        user: str = "ana",
        duration_ms: int = 1000,
        checkouts: Iterable[Checkout] = (),
    ) -> int:
        with self.lock:
            job = self.job(name)
            number = number or job.next_build_number
            job.next_build_number = max(job.next_build_number, number + 1)
            effective = {p.name: p.default_value for p in job.parameters}
            effective.update(parameters or {})
            build = Build(
                job.full_name,
                number,
                effective,
                user,
                0,
                int(time.time() * 1000) - duration_ms,
                building=result is None,
                log=f"Started by user {user}\n{log}",
                changes=[dict(c) for c in changes],
                started_monotonic=time.monotonic(),
                checkouts=list(checkouts),
            )
            job.builds[number] = build
            if result is not None:
                self._finish(build, result, duration_ms)
            return number

    def append_log(self, name: str, number: int, text: str) -> None:
        with self.lock:
            build = self.build(name, number)
            if not build.building:
                raise ValueError(f"{name} #{number} has finished; its log is closed")
            build.log += text

    def finish(
        self, name: str, number: int, result: str = "SUCCESS", duration_ms: int | None = None
    ) -> None:
        with self.lock:
            build = self.build(name, number)
            if not build.building:
                raise ValueError(f"{name} #{number} already finished with {build.result}")
            self._finish(build, result, duration_ms)

    def _finish(self, build: Build, result: str, duration_ms: int | None) -> None:
        if result not in RESULTS:
            raise ValueError(f"result must be one of {RESULTS}")
        elapsed = int((time.monotonic() - build.started_monotonic) * 1000)
        build.building, build.result = False, result
        build.duration_ms = elapsed if duration_ms is None else duration_ms
        build.log += f"Finished: {result}\n"

    def stop(self, name: str, number: int | str, user: str) -> Build:
        with self.lock:
            build = self.build(name, number)
            if build.building:
                build.log += f"Aborted by {user}\n"
                self._finish(build, "ABORTED", None)
            return build

    def snapshot(self, value: T) -> T:
        """A deep copy taken under the lock, for a test to read at leisure."""
        with self.lock:
            return copy.deepcopy(value)
