"""The Jenkins executor with the real python-jenkins client against a fake Jenkins over HTTP:
trigger with parameters, follow the queue item to the build, stream the progressive log."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from devexbot.runbooks.executors import Job
from devexbot.runbooks.executors.jenkins import JenkinsAccess, JenkinsExecutor
from devexbot.runbooks.model import JenkinsRun, Param, ParamType, RunbookCommand, RunStatus
from devexbot.runbooks.output import Output
from devexbot.runbooks.redact import Redactor
from tests.fakes.jenkins_runbook import CRUMB_FIELD, FakeJenkins

STEPS = [(0.0, "Started by user devexbot\n"), (0.5, "step 1: reindexing\n"),
         (1.0, "step 2: password=hunter2\n"), (1.5, "done\n")]


@pytest.fixture
def jenkins() -> Iterator[FakeJenkins]:
    with FakeJenkins() as fake:
        yield fake


def command(job: str = "ops/reindex", timeout: float = 20) -> RunbookCommand:
    return RunbookCommand(
        name="reindex", description="Rebuild the index", execution=JenkinsRun(job=job),
        params=(Param("index", ParamType.CHOICE, choices=("products", "users")),
                Param("batch", ParamType.INT, default=100),
                Param("dry_run", ParamType.BOOL, default=False)),
        allowed=("*",), timeout=timeout)


def job(cmd: RunbookCommand) -> Job:
    return Job(run_id=1, command=cmd, values={"index": "users", "batch": 250, "dry_run": True},
               user_id="U0ANA", channel_id="C0OPS",
               output=Output(Redactor(values=["hunter2"])), secrets={},
               deadline=time.monotonic() + cmd.timeout, stop=threading.Event())


def executor(fake: FakeJenkins, **kwargs: float) -> JenkinsExecutor:
    return JenkinsExecutor(JenkinsAccess(fake.url, fake.user, fake.token, timeout=5),
                           poll=kwargs.pop("poll", 0.1), **kwargs)


def test_queue_then_build_then_progressive_log(jenkins: FakeJenkins) -> None:
    jenkins.add_job("ops/reindex", script=STEPS, queue_wait=0.3)
    the_job = job(command())
    notes: list[str | None] = []
    done = threading.Event()

    def watch() -> None:
        """What the run's reply would show while it runs: its note, as often as it looks."""
        while not done.wait(0.01):
            notes.append(the_job.note)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    outcome = executor(jenkins).run(the_job)
    done.set()
    watcher.join()

    assert (outcome.status, outcome.exit_code) == (RunStatus.SUCCEEDED, 0)
    assert outcome.detail == "build #1: SUCCESS"
    assert the_job.output.tail() == (
        "Started by user devexbot\nstep 1: reindexing\nstep 2: password=[redacted]\ndone\n"
        "Finished: SUCCESS\n")
    assert the_job.url == f"{jenkins.url}job/ops/job/reindex/1/"
    # Triggered with the typed values as strings, crumb and credentials included.
    [trigger] = jenkins.calls("/buildWithParameters")
    assert trigger.path == "/job/ops/job/reindex/buildWithParameters"
    assert trigger.query == {"index": "users", "batch": "250", "dry_run": "true"}
    assert trigger.headers[CRUMB_FIELD] == jenkins.crumb
    assert len(jenkins.calls("/crumbIssuer/")) == 1
    # The queue item was followed until it named the build...
    assert len(jenkins.calls("/queue/item/101/api/json")) >= 2
    assert "waiting in the Jenkins queue: Waiting for next available executor" in notes
    # ...and the log read progressively, each read starting where the last one ended.
    starts = [int(r.query["start"]) for r in jenkins.calls("/logText/progressiveText")]
    assert len(starts) >= 3 and starts == sorted(starts) and starts[0] == 0
    assert len(set(starts)) >= 3


def test_a_failed_build_is_a_failed_run(jenkins: FakeJenkins) -> None:
    jenkins.add_job("reindex", script=[(0.0, "boom\n")], result="FAILURE", queue_wait=0)
    the_job = job(command("reindex"))
    outcome = executor(jenkins).run(the_job)
    assert (outcome.status, outcome.exit_code, outcome.detail) == (
        RunStatus.FAILED, 1, "build #1: FAILURE")
    assert the_job.output.tail() == "boom\nFinished: FAILURE\n"


def test_a_timeout_stops_the_build(jenkins: FakeJenkins) -> None:
    jenkins.add_job("reindex", script=[(0.0, "working\n"), (60.0, "never\n")], queue_wait=0)
    the_job = job(command("reindex", timeout=0.8))
    started = time.monotonic()
    outcome = executor(jenkins, kill_grace=0.5).run(the_job)
    assert time.monotonic() - started < 5
    assert outcome.status is RunStatus.TIMED_OUT
    assert outcome.detail == "build #1 stopped after 0.8 s (timeout)"
    assert len(jenkins.calls("/job/reindex/1/stop")) == 1
    assert the_job.output.tail().endswith("Aborted by devexbot\nFinished: ABORTED\n")


def test_a_timeout_in_the_queue_cancels_the_queue_item(jenkins: FakeJenkins) -> None:
    jenkins.add_job("reindex", queue_wait=60)
    outcome = executor(jenkins).run(job(command("reindex", timeout=0.5)))
    assert outcome.status is RunStatus.TIMED_OUT
    assert outcome.detail == "still queued after 0.5 s: cancelled"
    [cancel] = jenkins.calls("/queue/cancelItem")
    assert cancel.query == {"id": "101"} and jenkins.queue[101].cancelled


def test_refusals_and_no_jenkins(jenkins: FakeJenkins) -> None:
    jenkins.add_job("reindex")
    unknown = executor(jenkins).run(job(command("no-such-job")))
    assert unknown.status is RunStatus.ERROR
    assert unknown.detail is not None and unknown.detail.startswith(
        "Jenkins refused to start no-such-job")
    wrong = JenkinsExecutor(JenkinsAccess(jenkins.url, jenkins.user, "wrong-token"), poll=0.1)
    refused = wrong.run(job(command("reindex")))
    assert refused.status is RunStatus.ERROR and "401" in (refused.detail or "")
    off = JenkinsExecutor(None).run(job(command("reindex")))
    assert off.status is RunStatus.ERROR and "set JENKINS_URL" in (off.detail or "")
