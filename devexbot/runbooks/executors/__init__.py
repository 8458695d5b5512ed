"""Executors run one command: a local process, a Jenkins job or a Python function.

Each gets a `Job` (the command, its checked arguments, where output goes, when to stop)
and returns an `Outcome`. None of them raises for a failing script: a failure is an outcome.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

from devexbot.runbooks.model import RunbookCommand, RunStatus, Value
from devexbot.runbooks.output import Output


@dataclass
class Job:
    run_id: int
    command: RunbookCommand
    values: Mapping[str, Value]
    user_id: str
    channel_id: str
    output: Output
    secrets: Mapping[str, str]
    deadline: float  # time.monotonic() after which the run is stopped
    stop: threading.Event  # set when the bot shuts down
    note: str | None = None  # what the run waits for ("in the Jenkins queue"), for Slack
    url: str | None = None  # where to see it elsewhere (the Jenkins build)
    started: float = field(default_factory=time.monotonic)

    def remaining(self) -> float:
        return self.deadline - time.monotonic()


@dataclass(frozen=True)
class Outcome:
    status: RunStatus
    exit_code: int | None = None
    detail: str | None = None  # one line for people: "killed after 300 s", "UNSTABLE"


class Executor(Protocol):
    def run(self, job: Job) -> Outcome: ...
