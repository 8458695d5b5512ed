"""The Jenkins executor: trigger a parameterised job and follow it to its end.

`buildWithParameters` answers with a queue item; the queue item names the build once an
executor takes it; the build's console is read with `logText/progressiveText?start=N`
(`X-Text-Size` is where to start next, `X-More-Data` says more is coming). Heavy or
privileged scripts run on Jenkins agents this way, not on the bot's machine.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import jenkins
import requests

from devexbot.clients.jenkins import job_path
from devexbot.runbooks.executors import Job, Outcome
from devexbot.runbooks.model import JenkinsRun, RunStatus, render_value

log = logging.getLogger(__name__)

MAX_ERRORS = 5  # consecutive failed polls before the run is given up on


@dataclass(frozen=True)
class JenkinsAccess:
    url: str
    user: str | None = None
    token: str | None = None
    timeout: float = 10.0

    def client(self) -> jenkins.Jenkins:
        return jenkins.Jenkins(self.url, username=self.user, password=self.token,
                               timeout=self.timeout)


class Lost(Exception):
    """Jenkins stopped answering while we followed the run."""


class JenkinsExecutor:
    def __init__(self, access: JenkinsAccess | None, *, poll: float = 1.0,
                 kill_grace: float = 5.0) -> None:
        self.access, self.poll, self.kill_grace = access, poll, kill_grace

    def run(self, job: Job) -> Outcome:
        spec = job.command.execution
        assert isinstance(spec, JenkinsRun)
        if self.access is None:
            return Outcome(RunStatus.ERROR, None,
                           "Jenkins is not configured: set JENKINS_URL (and JENKINS_USER, "
                           "JENKINS_API_TOKEN)")
        server = self.access.client()
        params = {name: render_value(value) for name, value in job.values.items()}
        try:
            queue_id = server.build_job(spec.job, params or None)
        except (jenkins.JenkinsException, requests.RequestException) as exc:
            return Outcome(RunStatus.ERROR, None, f"Jenkins refused to start {spec.job}: "
                                                  f"{_one_line(exc)}")
        try:
            number = self._wait_for_build(server, job, queue_id)
            if isinstance(number, Outcome):
                return number
            return self._follow(server, job, spec.job, number)
        except Lost as exc:
            return Outcome(RunStatus.ERROR, None, f"lost contact with Jenkins: {exc}")

    def _wait_for_build(self, server: jenkins.Jenkins, job: Job, queue_id: int
                        ) -> int | Outcome:
        job.note = "waiting in the Jenkins queue"
        errors = 0
        while True:
            try:
                item = server.get_queue_item(queue_id)
                errors = 0
            except (jenkins.JenkinsException, requests.RequestException) as exc:
                errors = _count(errors, exc)
                item = {}
            if item.get("cancelled"):
                return Outcome(RunStatus.FAILED, None, "cancelled in the Jenkins queue")
            executable = item.get("executable")
            if executable and executable.get("number") is not None:
                job.url = executable.get("url")
                job.note = None
                return int(executable["number"])
            if item.get("why"):
                job.note = f"waiting in the Jenkins queue: {item['why']}"
            if job.stop.is_set():
                return Outcome(RunStatus.INTERRUPTED, None,
                               f"the bot shut down while queue item {queue_id} waited")
            if job.remaining() <= 0:
                _quietly(lambda: server.cancel_queue(queue_id))
                return Outcome(RunStatus.TIMED_OUT, None,
                               f"still queued after {job.command.timeout:g} s: cancelled")
            time.sleep(min(self.poll, max(0.01, job.remaining())))

    def _follow(self, server: jenkins.Jenkins, job: Job, name: str, number: int) -> Outcome:
        start, errors = 0, 0
        stopped: RunStatus | None = None
        give_up_at: float | None = None
        while True:
            try:
                text, start, more = _progressive_text(server, name, number, start)
                errors = 0
            except (jenkins.JenkinsException, requests.RequestException) as exc:
                errors = _count(errors, exc)
                text, more = "", True
            job.output.write(text)
            if not more:
                break
            if job.stop.is_set() and stopped is None:
                # The build goes on without us: Jenkins keeps its log.
                return Outcome(RunStatus.INTERRUPTED, None,
                               f"the bot shut down; build #{number} goes on in Jenkins")
            if job.remaining() <= 0 and stopped is None:
                stopped = RunStatus.TIMED_OUT
                _quietly(lambda: server.stop_build(name, number))
                give_up_at = time.monotonic() + self.kill_grace + 5 * self.poll
            if give_up_at is not None and time.monotonic() > give_up_at:
                break
            time.sleep(self.poll)
        result = self._result(server, name, number)
        if stopped is RunStatus.TIMED_OUT:
            return Outcome(stopped, None, f"build #{number} stopped after "
                                          f"{job.command.timeout:g} s (timeout)")
        if result == "SUCCESS":
            return Outcome(RunStatus.SUCCEEDED, 0, f"build #{number}: SUCCESS")
        return Outcome(RunStatus.FAILED, 1, f"build #{number}: {result or 'no result'}")

    def _result(self, server: jenkins.Jenkins, name: str, number: int) -> str | None:
        # The log can end a moment before the build records its result.
        for _ in range(10):
            try:
                info = server.get_build_info(name, number)
            except (jenkins.JenkinsException, requests.RequestException):
                info = {}
            if info.get("result") is not None and not info.get("building"):
                return str(info["result"])
            time.sleep(self.poll)
        return None


def _progressive_text(server: jenkins.Jenkins, name: str, number: int, start: int
                      ) -> tuple[str, int, bool]:
    url = f"{server.server}{job_path(name)}{number}/logText/progressiveText?start={start}"
    response: Any = server.jenkins_request(requests.Request("GET", url))
    size = response.headers.get("X-Text-Size")
    more = response.headers.get("X-More-Data", "").lower() == "true"
    return response.text, int(size) if size and size.isdigit() else start, more


def _count(errors: int, exc: Exception) -> int:
    errors += 1
    log.warning("Jenkins poll failed (%d in a row): %s", errors, _one_line(exc))
    if errors >= MAX_ERRORS:
        raise Lost(_one_line(exc))
    return errors


def _quietly(call: Callable[[], Any]) -> None:
    try:
        call()
    except (jenkins.JenkinsException, requests.RequestException) as exc:
        log.warning("Jenkins call failed: %s", _one_line(exc))


def _one_line(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
