"""Checks, statuses and GitHub Actions runs and jobs."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from correlation import status as st
from correlation.events import Event, ParseError, normalise_sha
from correlation.github.common import (
    MAX_OUTPUT_SUMMARY,
    Router,
    commit_fields,
    deployment_data,
    event_time,
    github_event,
    opt_obj,
    per_run,
    person,
    repo_of,
    run_generation,
    trimmed,
)
from correlation.merge_queue import MERGE_QUEUE_KIND, OUTCOMES, queue_ref
from correlation.payload import Fields
from correlation.status import Status

router = Router()


@router.register("check_run")
def _check_run(p: Fields, received_at: datetime) -> list[Event]:
    repo, run = repo_of(p), p.obj("check_run")
    sha = normalise_sha(run.req("head_sha"))
    run_id = run.oint("id")  # the fold matches check runs to jobs by id (found by fuzzing)
    status = st.from_github_run(run.opt("status"), run.opt("conclusion"))
    at = event_time(run, "completed_at" if status.finished else "started_at", "started_at",
               fallback=received_at)
    events = [
        github_event(
            repo, sha, "check", run.str("name"), at, status,
            url=run.ostr("details_url") or run.ostr("html_url"),
            html_url=run.ostr("html_url"),
            summary=run.ostr("output.title"),
            output_summary=trimmed(run.ostr("output.summary"), MAX_OUTPUT_SUMMARY),
            check_run_id=run_id,
            app=run.ostr("app.slug"),
            annotations=run.oint("output.annotations_count"),
        )
    ]
    branch = run.ostr("check_suite.head_branch")
    return events + commit_fields(repo, sha, "check_run", at, branch=branch)


@router.register("check_suite")
def _check_suite(p: Fields, received_at: datetime) -> list[Event]:
    repo, suite = repo_of(p), p.obj("check_suite")
    sha = normalise_sha(suite.req("head_sha"))
    at = event_time(suite, "updated_at", "created_at", fallback=received_at)
    events = commit_fields(repo, sha, "check_suite", at, branch=suite.ostr("head_branch"))
    head = opt_obj(suite, "head_commit")
    if head is not None:
        events += commit_fields(
            repo, sha, "check_suite", event_time(head, "timestamp", fallback=at),
            message=head.ostr("message"), author=person(opt_obj(head, "author")),
        )
    return events


@router.register("status")
def _status(p: Fields, received_at: datetime) -> list[Event]:
    repo, sha = repo_of(p), normalise_sha(p.req("sha"))
    at = event_time(p, "updated_at", "created_at", fallback=received_at)
    events = [
        github_event(repo, sha, "status", p.str("context"), at,
               st.from_commit_status(p.str("state")),
               url=p.ostr("target_url"), summary=p.ostr("description"))
    ]
    branches = p.objs("branches")
    if len(branches) == 1:
        events += commit_fields(repo, sha, "status", at, branch=branches[0].ostr("name"))
    commit = opt_obj(p, "commit")
    if commit is not None:
        author = opt_obj(commit, "commit.author")
        events += commit_fields(
            repo, sha, "status",
            event_time(commit, "commit.author.date", fallback=at),
            message=commit.ostr("commit.message"),
            author=person(author, login=commit.ostr("author.login")),
            url=commit.ostr("html_url"),
        )
    return events


@router.register("workflow_run")
def _workflow_run(p: Fields, received_at: datetime) -> list[Event]:
    repo, run = repo_of(p), p.obj("workflow_run")
    sha = normalise_sha(run.req("head_sha"))
    status = st.from_github_run(run.opt("status"), run.opt("conclusion"))
    at = event_time(run, "updated_at", "run_started_at", "created_at", fallback=received_at)
    attempt = run.oint("run_attempt") or 1
    name = str(run.ostr("name") or run.ostr("path") or run.req("workflow_id"))
    run_id, workflow_id = run.oint("id"), run.oint("workflow_id")
    events = [
        github_event(
            # A slot per run: a workflow runs once per triggering event on one commit.
            repo, sha, "workflow", per_run(str(workflow_id or name), run_id), at, status,
            generation=run_generation(run_id, attempt),
            display_name=name,
            workflow=name,
            workflow_id=workflow_id,
            url=run.ostr("html_url"),
            run_id=run_id,
            run_attempt=attempt,
            run_number=run.oint("run_number"),
            trigger=run.ostr("event"),
            summary=f"attempt {attempt}" if attempt > 1 else None,
        )
    ]
    events += commit_fields(repo, sha, "workflow_run", at, branch=run.ostr("head_branch"))
    head = opt_obj(run, "head_commit")
    if head is not None:
        events += commit_fields(
            repo, sha, "workflow_run", event_time(head, "timestamp", fallback=at),
            message=head.ostr("message"), author=person(opt_obj(head, "author")),
        )
    return events


@router.register("workflow_job")
def _workflow_job(p: Fields, received_at: datetime) -> list[Event]:
    repo, job = repo_of(p), p.obj("workflow_job")
    sha = normalise_sha(job.req("head_sha"))
    status = st.from_github_run(job.opt("status"), job.opt("conclusion"))
    at = event_time(job, "completed_at" if status.finished else "started_at", "started_at",
               "created_at", fallback=received_at)
    workflow = job.ostr("workflow_name")
    name = f"{workflow} / {job.str('name')}" if workflow else job.str("name")
    check_run_url = job.ostr("check_run_url")
    failed_steps = [str(s.ostr("name")) for s in job.objs("steps")
                    if s.opt("conclusion") == "failure"]
    attempt, run_id = job.oint("run_attempt"), job.oint("run_id")
    events = [
        github_event(
            repo, sha, "job", per_run(name, run_id), at, status,
            generation=run_generation(run_id, attempt),
            display_name=name,
            url=job.ostr("html_url"),
            workflow=workflow,
            job=job.str("name"),
            failed_steps=failed_steps or None,
            run_id=run_id,
            run_attempt=attempt,
            job_id=job.oint("id"),
            check_run_id=(
                int(check_run_url.rsplit("/", 1)[-1])
                if isinstance(check_run_url, str) and check_run_url.rsplit("/", 1)[-1].isdigit()
                else None
            ),
            summary=_job_summary(attempt, failed_steps),
        )
    ]
    deployment = opt_obj(p, "deployment")
    if status is Status.WAITING and deployment is not None:
        # The job waits for an environment's protection rules (required reviewers): the
        # environment's deployment waits for a human too.
        data = deployment_data(deployment)
        data.update(url=job.ostr("html_url"), job=name)
        events.append(github_event(repo, sha, "deployment", deployment.str("environment"), at,
                             Status.WAITING, **data))
    return events + commit_fields(repo, sha, "workflow_job", at, branch=job.ostr("head_branch"))


def _job_summary(attempt: object, failed_steps: list[Any]) -> str | None:
    parts = []
    if isinstance(attempt, int) and attempt > 1:
        parts.append(f"attempt {attempt}")
    if failed_steps:
        parts.append(f"failed at: {', '.join(str(s) for s in failed_steps)}")
    return ", ".join(parts) or None


@router.register("merge_group")
def _merge_group(p: Fields, received_at: datetime) -> list[Event]:
    """A pull request entered the merge queue (`checks_requested`) or left it
    (`destroyed`, with the reason); the events are the queue commit's, which the store
    moves onto the pull request's card (see `correlation.merge_queue`)."""
    repo, group = repo_of(p), p.obj("merge_group")
    sha = normalise_sha(group.req("head_sha"))
    ref = group.str("head_ref")
    queued = queue_ref(ref)
    if queued is None:
        raise ParseError(f"not a merge queue branch: {ref!r}")
    if p.opt("action") == "checks_requested":
        # The queue commit is made as the pull request enters the queue.
        at = event_time(group, "head_commit.timestamp", fallback=received_at)
        state, since = "queued", at.isoformat()
    elif p.opt("action") == "destroyed":
        at, state, since = received_at, str(p.opt("reason") or "dequeued"), None
    else:
        return []
    status = OUTCOMES.get(state, Status.NEUTRAL)
    return [
        github_event(repo, sha, MERGE_QUEUE_KIND, sha, at, status, state=state, since=since,
                     number=queued.number,
                     base=group.ostr("base_ref") and str(group.ostr("base_ref"))
                     .removeprefix("refs/heads/")),
        *commit_fields(repo, sha, "merge_group", at, branch=ref.removeprefix("refs/heads/")),
    ]
