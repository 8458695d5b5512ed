"""Each recorded-shape GitHub payload parses to the Events it carries."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from correlation import ParseError, Status, fold
from correlation.github import parse_github
from tests.github_sender import FIXTURES, load_fixture

HEAD = "6dcb09b5b57875f334f61aebed695e2e4193db5e"
NEXT = "4f7e1c0d8b2a9e6f3c5d7a1b0e9f8c2d4a6b8e0f"
MERGE = "9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b"
REPO = "octo-org/octo-app"
QUEUE = "a3b1c2d4e5f60718293a4b5c6d7e8f9012345678"
ARRIVED = datetime(2026, 11, 21, tzinfo=UTC)


def parse(fixture: str) -> list[Any]:
    return parse_github(fixture.split(".")[0], load_fixture(fixture), received_at=ARRIVED)


def facts(fixture: str) -> set[tuple[str, str, str, str | None, str]]:
    """(short sha, kind, name, status, time) of every non-metadata event."""
    return {
        (e.sha[:7], e.kind, e.name, e.status.value if e.status else None, e.at.strftime("%H:%M:%S"))
        for e in parse(fixture)
        if e.kind != "commit"
    }


# A workflow's and a job's slots are one run's (the fixtures' run 30433642).
RUN = 30433642
CI_RUN, TEST_JOB = f"161335#{RUN}", f"CI / test#{RUN}"


def commit_meta(fixture: str) -> dict[str, Any]:
    return {e.name: e.data["value"] for e in parse(fixture) if e.kind == "commit"}


@pytest.mark.parametrize(
    ("fixture", "expected"),
    [
        ("check_run.queued", {("6dcb09b", "check", "build", "pending", "10:01:00")}),
        ("check_run.in_progress", {("6dcb09b", "check", "build", "running", "10:01:10")}),
        ("check_run.completed", {("6dcb09b", "check", "build", "success", "10:04:00")}),
        ("check_run.completed.failure", {("6dcb09b", "check", "test", "failure", "10:04:00")}),
        ("status.pending", {("6dcb09b", "status", "ci/jenkins", "pending", "10:02:00")}),
        ("status.success", {("6dcb09b", "status", "ci/jenkins", "success", "10:04:30")}),
        ("workflow_run.requested", {("6dcb09b", "workflow", CI_RUN, "pending", "10:00:32")}),
        ("workflow_run.in_progress", {("6dcb09b", "workflow", CI_RUN, "running", "10:01:10")}),
        ("workflow_run.completed", {("6dcb09b", "workflow", CI_RUN, "failure", "10:10:00")}),
        ("workflow_run.completed.attempt2",
         {("6dcb09b", "workflow", CI_RUN, "success", "10:15:00")}),
        ("workflow_job.queued", {("6dcb09b", "job", TEST_JOB, "pending", "10:01:00")}),
        ("workflow_job.in_progress", {("6dcb09b", "job", TEST_JOB, "running", "10:01:10")}),
        ("workflow_job.completed", {("6dcb09b", "job", TEST_JOB, "failure", "10:04:00")}),
        # The job waits for the environment's reviewers, so the deployment waits too.
        ("workflow_job.waiting",
         {("6dcb09b", "job", f"CI / deploy-production#{RUN}", "waiting", "10:05:00"),
          ("6dcb09b", "deployment", "production", "waiting", "10:05:00")}),
        ("deployment.created", {("6dcb09b", "deployment", "staging", "pending", "10:06:00")}),
        ("deployment_status.in_progress",
         {("6dcb09b", "deployment", "staging", "running", "10:06:10")}),
        ("deployment_status.success",
         {("6dcb09b", "deployment", "staging", "success", "10:07:00")}),
        ("deployment_status.failure",
         {("6dcb09b", "deployment", "staging", "failure", "10:07:05")}),
        ("deployment_review.requested",
         {("6dcb09b", "approval", "production", "waiting", "10:05:00")}),
        ("deployment_review.approved",
         {("6dcb09b", "approval", "production", "success", "10:09:00"),
          ("6dcb09b", "approver", "production:ben", "success", "10:09:00")}),
        ("deployment_review.rejected",
         {("6dcb09b", "approval", "production", "failure", "10:09:00"),
          ("6dcb09b", "approver", "production:ben", "failure", "10:09:00")}),
        ("pull_request.opened", {("6dcb09b", "pr", "12", "pending", "10:00:30")}),
        ("pull_request.edited", {("6dcb09b", "pr", "12", "pending", "10:00:45")}),
        ("pull_request.converted_to_draft", {("6dcb09b", "pr", "12", "pending", "10:02:30")}),
        ("pull_request.ready_for_review", {("6dcb09b", "pr", "12", "pending", "10:03:00"),
                                           ("6dcb09b", "pr_ready", "12", None, "10:03:00")}),
        ("pull_request.reopened", {("6dcb09b", "pr", "12", "pending", "10:05:30"),
                                   ("6dcb09b", "pr_ready", "12", None, "10:05:30")}),
        # The previous head hears of the new one, so its card can say it was superseded.
        ("pull_request.synchronize",
         {("4f7e1c0", "pr", "12", "pending", "10:20:00"),
          ("6dcb09b", "pr", "12", "pending", "10:20:00")}),
        ("pull_request.closed",
         {("4f7e1c0", "pr", "12", "success", "10:30:00"),
          ("9a8b7c6", "merged_pr", "12", "success",
                                                      "10:30:00")}),
        ("pull_request_review.submitted.approved",
         {("6dcb09b", "review", "12:ben", None, "10:08:00")}),
        ("pull_request_review.submitted.changes_requested",
         {("6dcb09b", "review", "12:ben", None, "10:07:30")}),
        # The merge queue's news and checks, on the queue commit (the store moves them onto
        # the pull request's card).
        ("merge_group.checks_requested",
         {("a3b1c2d", "merge_queue", QUEUE, "pending", "11:00:00")}),
        ("merge_group.destroyed.dequeued",
         {("a3b1c2d", "merge_queue", QUEUE, "failure", "00:00:00")}),
        ("merge_group.destroyed.merged",
         {("a3b1c2d", "merge_queue", QUEUE, "success", "00:00:00")}),
        ("check_run.completed.merge_queue.failure",
         {("a3b1c2d", "check", "test", "failure", "11:03:00")}),
        ("push", set()),
        ("check_suite.completed", set()),
        ("ping", set()),
        ("issues.opened", set()),
    ],
)
def test_fixture_parses_to_its_events(fixture: str, expected: set[Any]) -> None:
    assert facts(fixture) == expected


def test_every_fixture_is_covered_by_the_table() -> None:
    names = {p.stem for p in FIXTURES.glob("*.json")}
    params = test_fixture_parses_to_its_events.pytestmark[0].args[1]  # type: ignore[attr-defined]
    assert names == {fixture for fixture, _ in params}


def test_push_gives_the_commit_its_branch_message_author_and_link() -> None:
    meta = commit_meta("push")
    assert meta["branch:push"] == "feature/login"
    assert meta["message:push"].startswith("Add login page\n")
    assert meta["author:push"] == {"login": "ana", "name": "Ana Lima", "email": "ana@example.com"}
    assert meta["url:push"].endswith(f"/commit/{HEAD}")


def test_merged_pr_gives_the_merge_commit_the_base_branch() -> None:
    events = [e for e in parse("pull_request.closed") if e.sha == MERGE]
    assert {e.kind for e in events} == {"merged_pr", "commit"}
    merged = next(e for e in events if e.kind == "merged_pr")
    assert merged.data["state"] == "merged" and merged.data["head_sha"] == NEXT
    assert next(e for e in events if e.kind == "commit").data["value"] == "main"


def test_repo_names_are_case_insensitive_keys() -> None:
    payload = load_fixture("status.success")
    payload["repository"]["full_name"] = "Octo-Org/Octo-App"
    payload["sha"] = HEAD.upper()
    (status, *_) = parse_github("status", payload, received_at=ARRIVED)
    assert (status.repo, status.sha) == (REPO, HEAD)


def test_check_run_status_and_conclusions_map_to_the_vocabulary() -> None:
    payload = load_fixture("check_run.completed")
    seen = {}
    for conclusion in ["success", "failure", "timed_out", "cancelled", "skipped", "neutral",
                       "action_required", "stale", "startup_failure"]:
        payload["check_run"]["conclusion"] = conclusion
        (event, *_) = parse_github("check_run", payload, received_at=ARRIVED)
        seen[conclusion] = event.status
    assert seen == {
        "success": Status.SUCCESS, "failure": Status.FAILURE, "timed_out": Status.FAILURE,
        "cancelled": Status.CANCELLED, "skipped": Status.SKIPPED, "neutral": Status.NEUTRAL,
        "action_required": Status.WAITING, "stale": Status.CANCELLED,
        "startup_failure": Status.FAILURE,
    }


def test_deleted_branch_push_and_inactive_deployment_carry_nothing() -> None:
    push = load_fixture("push")
    push.update(deleted=True, after="0" * 40, head_commit=None)
    assert parse_github("push", push, received_at=ARRIVED) == []
    status = load_fixture("deployment_status.success")
    status["deployment_status"]["state"] = "inactive"
    assert parse_github("deployment_status", status, received_at=ARRIVED) == []


def test_a_commented_review_neither_approves_nor_blocks() -> None:
    review = load_fixture("pull_request_review.submitted.approved")
    review["review"]["state"] = "commented"
    assert parse_github("pull_request_review", review, received_at=ARRIVED) == []


@pytest.mark.parametrize(
    ("fixture", "break_it", "message"),
    [
        ("check_run.completed", lambda p: p["check_run"].pop("head_sha"),
         "missing field check_run.head_sha"),
        ("status.success", lambda p: p.update(sha="not-a-sha"), "not a commit SHA"),
        ("pull_request.opened", lambda p: p["pull_request"].update(number="twelve"),
         "malformed pull_request payload"),
        ("deployment_status.success", lambda p: p.pop("deployment"), "missing field deployment"),
        ("workflow_run.completed", lambda p: p["workflow_run"].update(updated_at="yesterday"),
         "not a timestamp"),
        ("push", lambda p: p.pop("repository"), "missing field repository.full_name"),
        # A dict where an id goes once crashed the fold, after parsing (found by fuzzing).
        ("check_run.completed", lambda p: p["check_run"].update(id={}),
         "check_run.id is not an integer"),
        ("check_run.completed", lambda p: p["check_run"].update(details_url=[1]),
         "check_run.details_url is not a string"),
        # Found by fuzzing: a list here reached the fold's set of ids and raised TypeError.
        ("check_run.completed", lambda p: p["check_run"].update(id=[]),
         "field check_run.id is not an integer"),
    ],
)
def test_payloads_missing_what_we_need_raise_parse_error(
    fixture: str, break_it: Any, message: str
) -> None:
    payload = load_fixture(fixture)
    break_it(payload)
    with pytest.raises(ParseError, match=message):
        parse_github(fixture.split(".")[0], payload, received_at=ARRIVED)


def test_a_rerun_attempt_replaces_the_first_whatever_arrives_last() -> None:
    first, second = parse("workflow_run.completed"), parse("workflow_run.completed.attempt2")
    for order in (first + second, second + first):
        (line,) = fold(order).checks
        assert (line.status, line.details["run_attempt"], line.summary) == (
            Status.SUCCESS, 2, "attempt 2")
    # Even if attempt 1's news were stamped later, attempt 2 is the newer run.
    late = load_fixture("workflow_run.completed")
    late["workflow_run"]["updated_at"] = "2026-11-20T11:00:00Z"
    stale = parse_github("workflow_run", late, received_at=ARRIVED)
    assert fold(second + stale).checks[0].details["run_attempt"] == 2


def test_jobs_say_which_workflow_they_group_under() -> None:
    (job,) = [e for e in parse("workflow_job.completed") if e.kind == "job"]
    (workflow,) = [e for e in parse("workflow_run.completed") if e.kind == "workflow"]
    assert (job.data["workflow"], job.data["job"], job.data["run_id"]) == (
        "CI", "test", 30433642)
    assert (workflow.data["workflow"], workflow.data["run_id"]) == ("CI", 30433642)
    assert job.generation == workflow.generation == (30433642, 1)


def test_a_job_waiting_for_reviewers_makes_its_environment_wait() -> None:
    events = parse("workflow_job.waiting") + parse("deployment_review.requested")
    (line,) = fold(events).deployments
    assert (line.environment, line.status, line.deployment_id) == (
        "production", Status.WAITING, "145988790")
    assert line.approval is not None
    assert (line.approval.state, line.approval.reviewers, line.approval.run_id) == (
        "waiting", ("ben",), 30433642)
    # Approved, the environment waits no more: it is about to deploy.
    approved = fold(events + parse("deployment_review.approved")).deployments[0]
    assert approved.approval is not None
    assert (approved.status, approved.approval.state, approved.approval.by) == (
        Status.PENDING, "approved", ("ben",))
