"""A workflow's runs on one commit, folded: a table of GitHub deliveries (built from the
recorded payloads) and the check lines the card shows, in any order of arrival."""

from __future__ import annotations

import copy
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from correlation import Event, fold
from correlation.github import parse_github
from tests.github_sender import load_fixture

ARRIVED = datetime(2026, 11, 21, tzinfo=UTC)
ACTIONS = "https://github.com/octo-org/octo-app/actions/runs"
PR, PUSH, PR_AGAIN = 901, 902, 903  # run ids: GitHub numbers runs in the order it makes them


def run(run_id: int, event: str, conclusion: str, updated: str, *,
        attempt: int = 1) -> list[Event]:
    """`workflow_run` completed, for run `run_id` of the CI workflow."""
    payload = copy.deepcopy(load_fixture("workflow_run.completed"))
    payload["workflow_run"].update(id=run_id, event=event, conclusion=conclusion,
                                   run_attempt=attempt, updated_at=f"2026-11-20T{updated}:00Z",
                                   html_url=f"{ACTIONS}/{run_id}")
    return parse_github("workflow_run", payload, received_at=ARRIVED)


def job(run_id: int, job_id: int, conclusion: str, completed: str, *,
        attempt: int = 1) -> list[Event]:
    """`workflow_job` completed, for the `test` job of run `run_id`."""
    payload = copy.deepcopy(load_fixture("workflow_job.completed"))
    payload["workflow_job"].update(
        id=job_id, run_id=run_id, run_attempt=attempt, conclusion=conclusion,
        completed_at=f"2026-11-20T{completed}:00Z",
        html_url=f"{ACTIONS}/{run_id}/job/{job_id}",
        check_run_url=f"https://api.github.com/repos/octo-org/octo-app/check-runs/{job_id}")
    for step in payload["workflow_job"]["steps"]:
        step["conclusion"] = "failure" if step["conclusion"] == "failure" == conclusion \
            else "success"
    return parse_github("workflow_job", payload, received_at=ARRIVED)


def check_run(check_run_id: int, conclusion: str) -> list[Event]:
    """`check_run` completed: GitHub's check run for an Actions job, with the job's id."""
    payload = copy.deepcopy(load_fixture("check_run.completed.failure"))
    payload["check_run"].update(id=check_run_id, name="test", conclusion=conclusion)
    return parse_github("check_run", payload, received_at=ARRIVED)


def stored_before_runs_had_slots(events: list[Event]) -> list[Event]:
    """The events as state stored before this change holds them: one slot per workflow
    (named by its id) and per job name, without the workflow id in the data."""
    older = []
    for e in events:
        if e.kind in ("workflow", "job"):
            data = {k: v for k, v in e.data.items() if k != "workflow_id"}
            if e.kind == "job":
                data.pop("display_name", None)
            e = replace(e, name=e.name.split("#", 1)[0], data=data)
        older.append(e)
    return older


BOTH_RUNS = [
    ("CI (pull_request)", "failure", PR),
    ("CI (pull_request) / test", "failure", PR),
    ("CI (push)", "success", PUSH),
    ("CI (push) / test", "success", PUSH),
]

CASES: list[tuple[str, list[Event], list[tuple[str, str, int]], str]] = [
    ("a workflow that ran once keeps its plain name",
     run(PR, "pull_request", "failure", "10:05") + job(PR, 71, "failure", "10:04"),
     [("CI", "failure", PR), ("CI / test", "failure", PR)], "failure"),
    ("the pull request's run failed, the push's passed later",
     run(PR, "pull_request", "failure", "10:05") + job(PR, 71, "failure", "10:04")
     + run(PUSH, "push", "success", "10:06") + job(PUSH, 72, "success", "10:05"),
     BOTH_RUNS, "failure"),
    ("the push's run passed, the pull request's failed later",
     run(PR, "pull_request", "failure", "10:09") + job(PR, 71, "failure", "10:08")
     + run(PUSH, "push", "success", "10:06") + job(PUSH, 72, "success", "10:05"),
     BOTH_RUNS, "failure"),
    ("their jobs' check runs add no lines",
     run(PR, "pull_request", "failure", "10:05") + job(PR, 71, "failure", "10:04")
     + run(PUSH, "push", "success", "10:06") + job(PUSH, 72, "success", "10:05")
     + check_run(71, "failure") + check_run(72, "success"),
     BOTH_RUNS, "failure"),
    ("a re-run of the failed run passes: attempt 2 replaces attempt 1",
     run(PR, "pull_request", "failure", "10:05") + job(PR, 71, "failure", "10:04")
     + run(PUSH, "push", "success", "10:06") + job(PUSH, 72, "success", "10:05")
     + run(PR, "pull_request", "success", "10:03", attempt=2)  # a clock behind: still newer
     + job(PR, 73, "success", "10:02", attempt=2),
     [("CI (pull_request)", "success", PR), ("CI (pull_request) / test", "success", PR),
      ("CI (push)", "success", PUSH), ("CI (push) / test", "success", PUSH)], "success"),
    ("a newer run for the same trigger replaces the older one and its jobs",
     run(PR, "pull_request", "failure", "10:05") + job(PR, 71, "failure", "10:04")
     + run(PR_AGAIN, "pull_request", "success", "10:30") + job(PR_AGAIN, 74, "success", "10:29"),
     [("CI", "success", PR_AGAIN), ("CI / test", "success", PR_AGAIN)], "success"),
    ("a replaced run's job arriving late stays replaced",
     run(PR, "pull_request", "failure", "10:05")
     + run(PR_AGAIN, "pull_request", "success", "10:30") + job(PR_AGAIN, 74, "success", "10:29")
     + job(PR, 71, "failure", "10:40"),
     [("CI", "success", PR_AGAIN), ("CI / test", "success", PR_AGAIN)], "success"),
    ("a job of a run that has not reported yet is shown on its own",
     run(PR, "pull_request", "failure", "10:05") + job(PR, 71, "failure", "10:04")
     + job(PUSH, 72, "success", "10:05"),
     [("CI", "failure", PR), ("CI / test", "failure", PR), ("CI / test", "success", PUSH)],
     "failure"),
    ("state stored before runs had slots of their own, then the push's run",
     stored_before_runs_had_slots(run(PR, "pull_request", "failure", "10:05")
                                  + job(PR, 71, "failure", "10:04"))
     + run(PUSH, "push", "success", "10:06") + job(PUSH, 72, "success", "10:05"),
     BOTH_RUNS, "failure"),
    ("state stored before runs had slots of their own, then a re-run",
     stored_before_runs_had_slots(run(PR, "pull_request", "failure", "10:05")
                                  + job(PR, 71, "failure", "10:04"))
     + run(PR, "pull_request", "success", "10:20", attempt=2)
     + job(PR, 73, "success", "10:19", attempt=2),
     [("CI", "success", PR), ("CI / test", "success", PR)], "success"),
]


@pytest.mark.parametrize(("what", "events", "lines", "overall"), CASES,
                         ids=[c[0] for c in CASES])
def test_each_run_of_a_workflow_is_a_line(what: str, events: list[Event],
                                          lines: list[tuple[str, str, int]],
                                          overall: str) -> None:
    for order in (events, events[::-1]):
        card = fold(order)
        shown = sorted((c.name, c.status.value, c.details.get("run_id")) for c in card.checks)
        assert shown == sorted(lines)
        assert card.overall.value == overall
