"""The local executor: the command's argv as a process on the bot's machine.

Never through a shell: each argument is one argv element, so `; rm -rf /` in a value is
just characters of that argument. The process starts a session of its own, so a timeout
stops its whole process group (SIGTERM, then SIGKILL after a grace period), grandchildren
included; whatever a finished script left running in its group is stopped as well.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import IO

from devexbot.runbooks.executors import Job, Outcome
from devexbot.runbooks.model import LocalRun, RunStatus, render_value, substitute
from devexbot.runbooks.output import Output

# What every script gets from the bot's environment; anything else must be named.
BASE_ENV = ("PATH", "HOME", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "USER", "LOGNAME", "TMPDIR")
_CHUNK = 65536


class LocalExecutor:
    def __init__(self, *, kill_grace: float = 5.0, environ: Mapping[str, str] | None = None
                 ) -> None:
        self.kill_grace = kill_grace
        self._environ = environ if environ is not None else os.environ

    def argv(self, job: Job) -> list[str]:
        spec = self._spec(job)
        strings = {name: render_value(value) for name, value in job.values.items()}
        return [substitute(element, strings) for element in spec.argv]

    def env(self, job: Job) -> dict[str, str]:
        spec = self._spec(job)
        env = {name: self._environ[name] for name in (*BASE_ENV, *spec.env)
               if name in self._environ}
        env.update(job.secrets)
        env.update({
            "DEVEXBOT_RUN_ID": str(job.run_id),
            "DEVEXBOT_COMMAND": job.command.name,
            "DEVEXBOT_USER": job.user_id,
            "DEVEXBOT_CHANNEL": job.channel_id,
        })
        for name, value in job.values.items():
            env[f"DEVEXBOT_PARAM_{name.upper()}"] = render_value(value)
        return env

    def run(self, job: Job) -> Outcome:
        spec = self._spec(job)
        argv = self.argv(job)
        try:
            process = subprocess.Popen(  # noqa: S603 - argv list, no shell, checked values
                argv, cwd=spec.cwd, env=self.env(job), stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True,
                close_fds=True)
        except OSError as exc:
            message = f"could not start {Path(argv[0]).name}: {exc.strerror or exc}"
            job.output.write(message + "\n")
            return Outcome(RunStatus.ERROR, None, message)
        assert process.stdout is not None
        reader = threading.Thread(target=_pump, args=(process.stdout, job.output),
                                  name=f"runbook-{job.run_id}-output", daemon=True)
        reader.start()
        stopped: RunStatus | None = None
        while process.poll() is None:
            if job.stop.is_set():
                stopped = RunStatus.INTERRUPTED
            elif job.remaining() <= 0:
                stopped = RunStatus.TIMED_OUT
            if stopped is not None:
                self._stop_group(process.pid, leader=process)
                break
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=max(0.01, min(0.2, job.remaining())))
        code = process.wait()
        # Whatever the script left behind in its group (a `cmd &`) goes with it.
        if _group_alive(process.pid):
            self._stop_group(process.pid, leader=None, grace=min(self.kill_grace, 1.0))
        reader.join(timeout=5)
        if stopped is RunStatus.TIMED_OUT:
            return Outcome(stopped, code, f"stopped after {job.command.timeout:g} s (timeout)")
        if stopped is RunStatus.INTERRUPTED:
            return Outcome(stopped, code, "stopped: the bot is shutting down")
        if code < 0:
            try:
                name = signal.Signals(-code).name
            except ValueError:
                name = f"signal {-code}"
            return Outcome(RunStatus.FAILED, code, f"killed by {name}")
        return Outcome(RunStatus.SUCCEEDED if code == 0 else RunStatus.FAILED, code)

    def _stop_group(self, pgid: int, *, leader: subprocess.Popen[bytes] | None,
                    grace: float | None = None) -> None:
        """SIGTERM to the group, SIGKILL to whatever is left after the grace period."""
        grace = self.kill_grace if grace is None else grace
        if not _signal_group(pgid, signal.SIGTERM):
            return
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline and _group_alive(pgid):
            if leader is not None:
                leader.poll()  # reap it, or it would count as alive
            time.sleep(0.05)
        _signal_group(pgid, signal.SIGKILL)

    @staticmethod
    def _spec(job: Job) -> LocalRun:
        spec = job.command.execution
        assert isinstance(spec, LocalRun)
        return spec


def _pump(stream: IO[bytes], output: Output) -> None:
    fd = stream.fileno()
    try:
        while chunk := os.read(fd, _CHUNK):
            output.write_bytes(chunk)
    finally:
        stream.close()


def _signal_group(pgid: int, sig: signal.Signals) -> bool:
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        return False
    return True


def _group_alive(pgid: int) -> bool:
    """Whether any process of the group still runs (zombies waiting to be reaped do not)."""
    proc = Path("/proc")
    if not proc.is_dir():
        try:
            os.killpg(pgid, 0)
        except (ProcessLookupError, PermissionError):
            return False
        return True
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # pid (comm) state ppid pgrp ...; comm may hold spaces and parentheses.
        fields = stat[stat.rfind(")") + 2:].split()
        if len(fields) > 2 and int(fields[2]) == pgid and fields[0] not in ("Z", "X"):
            return True
    return False
