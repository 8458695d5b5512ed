"""Deployments, their statuses and the reviews that gate them."""

from __future__ import annotations

from datetime import datetime

from correlation import status as st
from correlation.events import Event, ParseError, normalise_sha, parse_time
from correlation.github.common import (
    Router,
    deployment_data,
    event_time,
    github_event,
    repo_of,
)
from correlation.payload import Fields
from correlation.status import Status

router = Router()


@router.register("deployment")
def _deployment(p: Fields, received_at: datetime) -> list[Event]:
    repo, deployment = repo_of(p), p.obj("deployment")
    sha = normalise_sha(deployment.req("sha"))
    at = event_time(deployment, "created_at", fallback=received_at)
    return [
        github_event(repo, sha, "deployment", deployment.str("environment"), at, Status.PENDING,
               **deployment_data(deployment))
    ]


@router.register("deployment_status")
def _deployment_status(p: Fields, received_at: datetime) -> list[Event]:
    repo, deployment, ds = repo_of(p), p.obj("deployment"), p.obj("deployment_status")
    status = st.from_deployment_state(ds.str("state"))
    if status is None:
        return []  # `inactive`: a newer deployment replaced this one; the card keeps its news
    sha = normalise_sha(deployment.req("sha"))
    environment = ds.ostr("environment") or deployment.str("environment")
    at = event_time(ds, "updated_at", "created_at", fallback=received_at)
    data = deployment_data(deployment)
    data.update(
        url=ds.ostr("environment_url") or ds.ostr("target_url") or ds.ostr("log_url"),
        log_url=ds.ostr("log_url") or ds.ostr("target_url"),
        description=ds.ostr("description") or data["description"],
    )
    return [github_event(repo, sha, "deployment", environment, at, status, **data)]


_REVIEW_STATES = {
    "requested": ("waiting", Status.WAITING),
    "approved": ("approved", Status.SUCCESS),
    "rejected": ("rejected", Status.FAILURE),
}


@router.register("deployment_review")
def _deployment_review(p: Fields, received_at: datetime) -> list[Event]:
    action = p.str("action")
    if action not in _REVIEW_STATES:
        return []
    state, status = _REVIEW_STATES[action]
    repo, run = repo_of(p), p.obj("workflow_run")
    sha = normalise_sha(run.req("head_sha"))
    job_runs = p.objs("workflow_job_runs") or (
        [p.obj("workflow_job_run")] if p.opt("workflow_job_run") is not None else []
    )
    environments = sorted({str(j.ostr("environment")) for j in job_runs if j.ostr("environment")})
    if p.ostr("environment"):
        environments = sorted(set(environments) | {p.str("environment")})
    if not environments:
        raise ParseError("missing field environment")
    # A decision states no time of its own; it came no earlier than anything it mentions.
    stamps = [p.opt("since"), run.opt("updated_at")] + [j.opt("updated_at") for j in job_runs]
    times = [parse_time(s) for s in stamps if s]
    at = max(times) if times else received_at
    reviewers = sorted(
        str(r.opt("reviewer.login") or r.opt("reviewer.slug") or r.opt("reviewer.name"))
        for r in p.objs("reviewers")
        if r.opt("reviewer") is not None
    )
    approver = p.ostr("approver.login")
    events = []
    for env in environments:
        events.append(github_event(repo, sha, "approval", env, at, status, state=state,
                             reviewers=reviewers or None, comment=p.ostr("comment") or None,
                             run_id=run.oint("id"), requestor=p.ostr("requestor.login")))
        if approver and state != "waiting":
            events.append(github_event(repo, sha, "approver", f"{env}:{approver}", at, status,
                                 environment=env, login=approver, state=state))
    return events
