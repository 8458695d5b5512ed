"""Which failure reply a card owes, as a table: deliveries shaped as GitHub and Jenkins send
them are parsed and folded between "flushes", as the outbox does, and each flush records
the keys of the reply it is owed. One failure is one reply, whichever sources report it
and whichever flush their deliveries fall into."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

import pytest

from correlation import Event, fold
from correlation.github import parse_github
from correlation.jenkins import parse_jenkins
from correlation.owed_replies import owed_failure_reply
from correlation.status import Status
from tests.cards import card, check
from tests.github_sender import load_fixture
from tests.jenkins_sender import load_jenkins
from tests.scenario import HEAD

ARRIVED = datetime(2026, 11, 21, tzinfo=UTC)
RUN = 30433642  # the fixtures' run of the CI workflow, for a pull request
PUSH_RUN = 30433650  # the same workflow's run for the push of the same commit
TEST_JOB, LINT_JOB, TEST_JOB_AGAIN, PUSH_TEST_JOB = 399444496, 399444497, 399444596, 399444600
JENKINS = "https://jenkins.octo-app.example.com/job/octo-app/job/feature%252Flogin"

Delivery = tuple[str, dict[str, Any]]  # ("github:<event>" | "jenkins", payload)


def job(name: str, job_id: int, *, attempt: int = 1, completed: str = "10:04:00",
        run_id: int = RUN) -> Delivery:
    """`workflow_job` completed/failure, for a job of a CI run."""
    payload = copy.deepcopy(load_fixture("workflow_job.completed"))
    payload["workflow_job"].update(
        id=job_id, name=name, run_id=run_id, run_attempt=attempt,
        completed_at=f"2026-11-20T{completed}Z",
        check_run_url=f"https://api.github.com/repos/octo-org/octo-app/check-runs/{job_id}")
    return "github:workflow_job", payload


def run(*, attempt: int = 1, updated: str = "10:10:00", run_id: int = RUN,
        event: str = "pull_request") -> Delivery:
    """`workflow_run` completed/failure of a CI run."""
    payload = copy.deepcopy(load_fixture("workflow_run.completed"))
    payload["workflow_run"].update(id=run_id, run_attempt=attempt, event=event,
                                   updated_at=f"2026-11-20T{updated}Z")
    return "github:workflow_run", payload


def check_run(name: str, check_run_id: int) -> Delivery:
    """`check_run` completed/failure: GitHub's check run for an Actions job has its id."""
    payload = copy.deepcopy(load_fixture("check_run.completed.failure"))
    payload["check_run"].update(id=check_run_id, name=name)
    return "github:check_run", payload


def jenkins(phase: str, *, number: int = 7, at_ms: int = 1795168927000) -> Delivery:
    """The Notification plugin's failed build of feature/login (its phases' times differ)."""
    payload = copy.deepcopy(load_jenkins("completed.failure"))
    payload["build"].update(phase=phase, number=number, timestamp=at_ms,
                            full_url=f"{JENKINS}/{number}/", url=f"{JENKINS}/{number}/")
    return "jenkins", payload


def jenkins_status(number: int = 7) -> Delivery:
    """The commit status Jenkins' GitHub plugin reports for the same build."""
    payload = copy.deepcopy(load_fixture("status.success"))
    payload.update(state="failure", target_url=f"{JENKINS}/{number}/display/redirect",
                   description="This commit has test failures")
    return "github:status", payload


def deploy_failed() -> Delivery:
    return "github:deployment_status", load_fixture("deployment_status.failure")


def events(delivery: Delivery) -> list[Event]:
    sender, payload = delivery
    if sender == "jenkins":
        parsed = parse_jenkins(payload, received_at=ARRIVED).events
    else:
        parsed = parse_github(sender.removeprefix("github:"), payload, received_at=ARRIVED)
    return [e for e in parsed if e.sha == HEAD]


def replies(flushes: list[list[Delivery]]) -> list[list[str]]:
    """What each reply tells (failed checks and deployments by name), flushing the card
    after each group of deliveries and recording the keys of what it was owed."""
    stored: list[Event] = []
    sent: set[str] = set()
    told = []
    for deliveries in flushes:
        stored += [e for d in deliveries for e in events(d)]
        owed = owed_failure_reply(fold(stored), sent)
        if owed is not None:
            assert owed.keys and not sent & set(owed.keys)  # all new: none is refused
            sent.update(owed.keys)
            told.append(sorted([c.name for c in owed.checks]
                               + [d.environment for d in owed.deployments]))
    return told


CASES: list[tuple[str, list[list[Delivery]], list[list[str]]]] = [
    ("job, then its run",
     [[job("test", TEST_JOB)], [run()]],
     [["CI / test"]]),
    ("run, then its job",
     [[run()], [job("test", TEST_JOB)]],
     [["CI"]]),
    ("job and run in one flush",
     [[job("test", TEST_JOB), run()]],
     [["CI / test"]]),
    ("the same job delivered again",
     [[job("test", TEST_JOB)], [job("test", TEST_JOB)], [run()], [run()]],
     [["CI / test"]]),
    ("two failed jobs of one run, apart",
     [[job("test", TEST_JOB)], [job("lint", LINT_JOB, completed="10:05:00")], [run()]],
     [["CI / test"], ["CI / lint"]]),
    ("two failed jobs of one run, together",
     [[job("test", TEST_JOB), job("lint", LINT_JOB), run()]],
     [["CI / lint", "CI / test"]]),
    ("a job of a run already told as a whole",
     [[run()], [job("test", TEST_JOB)], [job("lint", LINT_JOB)]],
     [["CI"]]),
    ("a re-run that fails again",
     [[job("test", TEST_JOB), run()],
      [job("test", TEST_JOB_AGAIN, attempt=2, completed="10:20:00"),
       run(attempt=2, updated="10:21:00")]],
     [["CI / test"], ["CI / test"]]),
    ("the workflow's run for the push fails too, later",
     [[job("test", TEST_JOB), run()],
      [job("test", PUSH_TEST_JOB, run_id=PUSH_RUN), run(run_id=PUSH_RUN, event="push")]],
     [["CI / test"], ["CI (push) / test"]]),
    ("the runs for the pull request and the push fail together",
     [[job("test", TEST_JOB), run(),
       job("test", PUSH_TEST_JOB, run_id=PUSH_RUN), run(run_id=PUSH_RUN, event="push")]],
     [["CI (pull_request) / test", "CI (push) / test"]]),
    ("the job's check run, then the job, then its run",
     [[check_run("test", TEST_JOB)], [job("test", TEST_JOB)], [run()]],
     [["test"]]),
    ("the job, then its check run",
     [[job("test", TEST_JOB)], [check_run("test", TEST_JOB)]],
     [["CI / test"]]),
    ("a check run of another app",
     [[job("test", TEST_JOB)], [check_run("test", 4)]],
     [["CI / test"], ["test"]]),
    ("a Jenkins build completed, then finalized",
     [[jenkins("COMPLETED")], [jenkins("FINALIZED", at_ms=1795168929000)]],
     [["octo-app/feature/login"]]),
    ("Jenkins' commit status for a build, then the build",
     [[jenkins_status()], [jenkins("COMPLETED")]],
     [["ci/jenkins"]]),
    ("the next Jenkins build fails again",
     [[jenkins("COMPLETED")], [jenkins("COMPLETED", number=8, at_ms=1795169927000)]],
     [["octo-app/feature/login"], ["octo-app/feature/login"]]),
    ("a deployment fails after a job",
     [[job("test", TEST_JOB)], [deploy_failed()], [deploy_failed()]],
     [["CI / test"], ["staging"]]),
]


@pytest.mark.parametrize(("what", "flushes", "expected"), CASES, ids=[c[0] for c in CASES])
def test_one_failure_is_one_reply(what: str, flushes: list[list[Delivery]],
                                  expected: list[list[str]]) -> None:
    assert replies(flushes) == expected


def test_a_reply_about_a_job_records_the_job_and_its_run() -> None:
    owed = owed_failure_reply(fold(events(job("test", TEST_JOB))), set())
    assert owed is not None
    assert owed.keys == (
        "failure:github:job:CI / test:2026-11-20T10:04:00Z",
        f"failure:github:check-run:{TEST_JOB}",
        f"failure:github:workflow-run:{RUN}:1:job",
    )


def test_a_failure_told_under_the_old_keys_is_not_told_again() -> None:
    # Replies were recorded by slot and time before; a card in flight keeps them.
    card_ = fold(events(job("test", TEST_JOB)) + events(run()))
    assert owed_failure_reply(card_, {"failure:github:job:CI / test:2026-11-20T10:04:00Z"}) \
        is None


def test_no_failure_owes_nothing() -> None:
    assert owed_failure_reply(card(checks=(check("build"), check("lint"))), set()) is None


def test_a_failure_with_a_very_long_name_has_keys_the_table_holds() -> None:
    long = check("integration / " + "x" * 300, Status.FAILURE)
    owed = owed_failure_reply(card(checks=(long,)), set())
    assert owed is not None and all(len(k) <= 255 for k in owed.keys)
    assert owed_failure_reply(card(checks=(long,)), set(owed.keys)) is None
