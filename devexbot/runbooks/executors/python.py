"""The Python executor: a `@runbook` function called in the bot's process.

A thread cannot be killed, so the timeout is cooperative: at the deadline the run is
recorded as timed out and `RunContext.should_stop()` turns true; the function should return.
"""

from __future__ import annotations

import inspect
import threading
import traceback
import typing
from typing import Any

from devexbot.runbooks.executors import Job, Outcome
from devexbot.runbooks.model import PythonRun, RunStatus
from devexbot.runbooks.plugin import RunContext


class PythonExecutor:
    def __init__(self, *, kill_grace: float = 5.0) -> None:
        self.kill_grace = kill_grace

    def run(self, job: Job) -> Outcome:
        spec = job.command.execution
        assert isinstance(spec, PythonRun)
        stop = threading.Event()
        context = RunContext(run_id=job.run_id, command=job.command.name, user_id=job.user_id,
                             channel_id=job.channel_id, write=job.output.write,
                             secrets=job.secrets, stop=stop)
        result: dict[str, Any] = {}

        def call() -> None:
            try:
                kwargs: dict[str, Any] = dict(job.values)
                if (name := _context_parameter(spec)) is not None:
                    kwargs[name] = context
                result["value"] = spec.function(**kwargs)
            except BaseException as exc:  # the function's failure is the run's outcome
                result["error"] = exc
                job.output.write("".join(traceback.format_exception(exc)))

        thread = threading.Thread(target=call, name=f"runbook-{job.run_id}", daemon=True)
        thread.start()
        while thread.is_alive() and job.remaining() > 0 and not job.stop.is_set():
            thread.join(timeout=min(0.2, max(0.01, job.remaining())))
        if thread.is_alive():
            stop.set()
            thread.join(timeout=self.kill_grace)
            if job.stop.is_set():
                return Outcome(RunStatus.INTERRUPTED, None, "stopped: the bot is shutting down")
            return Outcome(RunStatus.TIMED_OUT, None,
                           f"timed out after {job.command.timeout:g} s (asked to stop)")
        if "error" in result:
            error = result["error"]
            return Outcome(RunStatus.FAILED, 1, f"{type(error).__name__}: {error}"[:200])
        value = result.get("value")
        code = value if isinstance(value, int) and not isinstance(value, bool) else (
            1 if value is False else 0)
        return Outcome(RunStatus.SUCCEEDED if code == 0 else RunStatus.FAILED, code)


def _context_parameter(spec: PythonRun) -> str | None:
    hints = typing.get_type_hints(spec.function)
    return next((name for name in inspect.signature(spec.function).parameters
                 if hints.get(name) is RunContext), None)
