"""GitHub webhook payloads to Events.

One small parser per event type, registered on a router (after gidgethub's): a parser
takes the decoded payload and the time the delivery arrived (used only where a payload
states no time of its own) and returns the Events it carries.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from correlation import status as st
from correlation.events import Event, ParseError, normalise_repo, normalise_sha, parse_time
from correlation.payload import Fields
from correlation.status import Status

Parser = Callable[[Fields, datetime], list[Event]]

ZERO_SHA = "0" * 40
MAX_OUTPUT_SUMMARY = 2000  # a check's markdown summary can be 64 KB; a card needs the top
MAX_PR_BODY = 4000  # kept for the tickets it names, which are near the top


def _trimmed(text: str | None, limit: int) -> str | None:
    if text is None or len(text) <= limit:
        return text
    return text[:limit].rsplit("\n", 1)[0] + "\n…"


class Router:
    """Maps a GitHub event type (`X-GitHub-Event`) to its parser."""

    def __init__(self) -> None:
        self._parsers: dict[str, Parser] = {}

    def register(self, event_type: str) -> Callable[[Parser], Parser]:
        def decorate(parser: Parser) -> Parser:
            self._parsers[event_type] = parser
            return parser

        return decorate

    def handles(self, event_type: str) -> bool:
        return event_type in self._parsers

    def parse(self, event_type: str, payload: object, *, received_at: datetime) -> list[Event]:
        """Events in a delivery; [] for types we ignore; ParseError for missing fields."""
        parser = self._parsers.get(event_type)
        if parser is None:
            return []
        try:
            return parser(Fields(payload), received_at)
        except ParseError:
            raise
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            # A field of the wrong type or shape: the payload is malformed, not our code.
            raise ParseError(f"malformed {event_type} payload: {exc}") from exc


router = Router()
parse_github = router.parse


def _event(
    repo: str,
    sha: str,
    kind: str,
    name: str,
    at: datetime,
    status: Status | None = None,
    *,
    generation: tuple[int, ...] = (),
    **data: Any,
) -> Event:
    return Event(repo=repo, sha=sha, source="github", kind=kind, name=name, at=at,
                 status=status, data={k: v for k, v in data.items() if v is not None},
                 generation=generation)


def _run_generation(run_id: object, attempt: object) -> tuple[int, ...]:
    """A later run, or a later attempt of the same run, replaces an earlier one."""
    if run_id is None:
        return ()
    attempt = attempt or 1
    if not isinstance(run_id, int | str) or not isinstance(attempt, int | str):
        raise ParseError(f"run id {run_id!r} and attempt {attempt!r} must be numbers")
    return (int(run_id), int(attempt))


def _commit(repo: str, sha: str, origin: str, at: datetime, **fields: Any) -> list[Event]:
    """Commit metadata: one slot per field and origin, so a richer source is never lost."""
    return [
        _event(repo, sha, "commit", f"{field}:{origin}", at, value=value)
        for field, value in fields.items()
        if value not in (None, "", {})
    ]


def _person(raw: Fields | None, login: str | None = None) -> dict[str, Any] | None:
    if raw is None:
        return None
    person = {
        "login": login or raw.ostr("username") or raw.ostr("login"),
        "name": raw.ostr("name"),
        "email": raw.ostr("email"),
    }
    return {k: v for k, v in person.items() if v} or None


def _opt_obj(payload: Fields, dotted: str) -> Fields | None:
    return payload.obj(dotted) if payload.opt(dotted) is not None else None


def _time(payload: Fields, *candidates: str, fallback: datetime) -> datetime:
    for dotted in candidates:
        value = payload.opt(dotted)
        if value is not None:
            return parse_time(value)
    return fallback


def _repo(payload: Fields) -> str:
    return normalise_repo(payload.req("repository.full_name"))


def _commit_url(payload: Fields, sha: str) -> str | None:
    html = payload.ostr("repository.html_url")
    return f"{html}/commit/{sha}" if html else None


@router.register("push")
def _push(p: Fields, received_at: datetime) -> list[Event]:
    after = p.str("after")
    if p.opt("deleted") or after == ZERO_SHA:
        return []
    repo, sha = _repo(p), normalise_sha(after)
    ref = p.str("ref")
    pushed_at = _time(p, "repository.pushed_at", fallback=received_at)
    events = []
    if ref.startswith("refs/heads/"):
        events += _commit(repo, sha, "push", pushed_at, branch=ref.removeprefix("refs/heads/"))
    head = _opt_obj(p, "head_commit")
    if head is not None:
        at = _time(head, "timestamp", fallback=pushed_at)
        events += _commit(
            repo, sha, "push", at,
            message=head.ostr("message"),
            author=_person(_opt_obj(head, "author")),
            url=head.ostr("url") or _commit_url(p, sha),
        )
    return events


def _pr_data(pr: Fields) -> dict[str, Any]:
    state = "merged" if pr.opt("merged") or pr.opt("merged_at") else pr.str("state")
    return {
        "number": int(pr.req("number")),
        "title": pr.ostr("title"),
        "body": _trimmed(pr.ostr("body"), MAX_PR_BODY),
        "state": state,
        "url": pr.ostr("html_url"),
        "draft": bool(pr.opt("draft", False)),
        "author": pr.ostr("user.login"),
        "head_sha": normalise_sha(pr.req("head.sha")),
        "head_ref": pr.ostr("head.ref"),
        "base": pr.ostr("base.ref"),
        "labels": sorted(
            str(label.ostr("name")) for label in pr.objs("labels") if label.ostr("name")
        ),
        "requested_reviewers": sorted(
            r.ostr("login") for r in pr.objs("requested_reviewers") if r.ostr("login")
        ),
        "created_at": pr.ostr("created_at"),
    }


_PR_STAGE = {"open": Status.PENDING, "closed": Status.CANCELLED, "merged": Status.SUCCESS}


@router.register("pull_request")
def _pull_request(p: Fields, received_at: datetime) -> list[Event]:
    repo, pr = _repo(p), p.obj("pull_request")
    data = _pr_data(pr)
    at = _time(pr, "updated_at", "closed_at", "created_at", fallback=received_at)
    name = str(data["number"])
    head = data["head_sha"]
    # A later stage wins a tie on time, as for checks: merged or closed beats open.
    stage = _PR_STAGE.get(str(data["state"]), Status.PENDING)
    events = [_event(repo, head, "pr", name, at, stage, **data)]
    if p.opt("action") in ("ready_for_review", "reopened") and not data["draft"]:
        # Since when the pull request waits for review (review reminders count from here);
        # a slot of its own, as the `pr` slot's next event would forget it.
        events.append(_event(repo, head, "pr_ready", name, at, number=data["number"]))
    if data["head_ref"]:
        events += _commit(repo, head, "pull_request", at, branch=data["head_ref"])
    before = p.opt("before")
    if p.opt("action") == "synchronize" and isinstance(before, str) and before != ZERO_SHA:
        # The previous head learns it was superseded.
        events.append(_event(repo, normalise_sha(before), "pr", name, at, stage, **data))
    merge_sha = pr.opt("merge_commit_sha")
    if data["state"] == "merged" and merge_sha:
        merge_sha = normalise_sha(merge_sha)
        events.append(_event(repo, merge_sha, "merged_pr", name, at, stage, **data))
        if data["base"]:
            events += _commit(repo, merge_sha, "merge", at, branch=data["base"])
    return events


@router.register("pull_request_review")
def _pull_request_review(p: Fields, received_at: datetime) -> list[Event]:
    repo, review = _repo(p), p.obj("review")
    state = str(review.req("state")).lower()
    if p.opt("action") == "dismissed":
        state = "dismissed"
    if state == "commented":
        return []  # a comment neither approves nor blocks
    number = int(p.req("pull_request.number"))
    login = review.str("user.login")
    sha = normalise_sha(review.opt("commit_id") or p.req("pull_request.head.sha"))
    at = _time(review, "submitted_at", fallback=received_at)
    return [_event(repo, sha, "review", f"{number}:{login}", at,
                   number=number, login=login, state=state)]


@router.register("check_run")
def _check_run(p: Fields, received_at: datetime) -> list[Event]:
    repo, run = _repo(p), p.obj("check_run")
    sha = normalise_sha(run.req("head_sha"))
    run_id = run.oint("id")  # the fold matches check runs to jobs by id (found by fuzzing)
    status = st.from_github_run(run.opt("status"), run.opt("conclusion"))
    at = _time(run, "completed_at" if status.finished else "started_at", "started_at",
               fallback=received_at)
    events = [
        _event(
            repo, sha, "check", run.str("name"), at, status,
            url=run.ostr("details_url") or run.ostr("html_url"),
            html_url=run.ostr("html_url"),
            summary=run.ostr("output.title"),
            output_summary=_trimmed(run.ostr("output.summary"), MAX_OUTPUT_SUMMARY),
            check_run_id=run_id,
            app=run.ostr("app.slug"),
            annotations=run.oint("output.annotations_count"),
        )
    ]
    branch = run.ostr("check_suite.head_branch")
    return events + _commit(repo, sha, "check_run", at, branch=branch)


@router.register("check_suite")
def _check_suite(p: Fields, received_at: datetime) -> list[Event]:
    repo, suite = _repo(p), p.obj("check_suite")
    sha = normalise_sha(suite.req("head_sha"))
    at = _time(suite, "updated_at", "created_at", fallback=received_at)
    events = _commit(repo, sha, "check_suite", at, branch=suite.ostr("head_branch"))
    head = _opt_obj(suite, "head_commit")
    if head is not None:
        events += _commit(
            repo, sha, "check_suite", _time(head, "timestamp", fallback=at),
            message=head.ostr("message"), author=_person(_opt_obj(head, "author")),
        )
    return events


@router.register("status")
def _status(p: Fields, received_at: datetime) -> list[Event]:
    repo, sha = _repo(p), normalise_sha(p.req("sha"))
    at = _time(p, "updated_at", "created_at", fallback=received_at)
    events = [
        _event(repo, sha, "status", p.str("context"), at,
               st.from_commit_status(p.str("state")),
               url=p.ostr("target_url"), summary=p.ostr("description"))
    ]
    branches = p.objs("branches")
    if len(branches) == 1:
        events += _commit(repo, sha, "status", at, branch=branches[0].ostr("name"))
    commit = _opt_obj(p, "commit")
    if commit is not None:
        author = _opt_obj(commit, "commit.author")
        events += _commit(
            repo, sha, "status",
            _time(commit, "commit.author.date", fallback=at),
            message=commit.ostr("commit.message"),
            author=_person(author, login=commit.ostr("author.login")),
            url=commit.ostr("html_url"),
        )
    return events


@router.register("workflow_run")
def _workflow_run(p: Fields, received_at: datetime) -> list[Event]:
    repo, run = _repo(p), p.obj("workflow_run")
    sha = normalise_sha(run.req("head_sha"))
    status = st.from_github_run(run.opt("status"), run.opt("conclusion"))
    at = _time(run, "updated_at", "run_started_at", "created_at", fallback=received_at)
    attempt = run.oint("run_attempt") or 1
    name = str(run.ostr("name") or run.ostr("path") or run.req("workflow_id"))
    events = [
        _event(
            repo, sha, "workflow", str(run.oint("workflow_id") or name), at, status,
            generation=_run_generation(run.oint("id"), attempt),
            display_name=name,
            workflow=name,
            url=run.ostr("html_url"),
            run_id=run.oint("id"),
            run_attempt=attempt,
            run_number=run.oint("run_number"),
            trigger=run.ostr("event"),
            summary=f"attempt {attempt}" if attempt > 1 else None,
        )
    ]
    events += _commit(repo, sha, "workflow_run", at, branch=run.ostr("head_branch"))
    head = _opt_obj(run, "head_commit")
    if head is not None:
        events += _commit(
            repo, sha, "workflow_run", _time(head, "timestamp", fallback=at),
            message=head.ostr("message"), author=_person(_opt_obj(head, "author")),
        )
    return events


@router.register("workflow_job")
def _workflow_job(p: Fields, received_at: datetime) -> list[Event]:
    repo, job = _repo(p), p.obj("workflow_job")
    sha = normalise_sha(job.req("head_sha"))
    status = st.from_github_run(job.opt("status"), job.opt("conclusion"))
    at = _time(job, "completed_at" if status.finished else "started_at", "started_at",
               "created_at", fallback=received_at)
    workflow = job.ostr("workflow_name")
    name = f"{workflow} / {job.str('name')}" if workflow else job.str("name")
    check_run_url = job.ostr("check_run_url")
    failed_steps = [str(s.ostr("name")) for s in job.objs("steps")
                    if s.opt("conclusion") == "failure"]
    attempt = job.oint("run_attempt")
    events = [
        _event(
            repo, sha, "job", name, at, status,
            generation=_run_generation(job.oint("run_id"), attempt),
            url=job.ostr("html_url"),
            workflow=workflow,
            job=job.str("name"),
            failed_steps=failed_steps or None,
            run_id=job.oint("run_id"),
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
    deployment = _opt_obj(p, "deployment")
    if status is Status.WAITING and deployment is not None:
        # The job waits for an environment's protection rules (required reviewers): the
        # environment's deployment waits for a human too.
        data = _deployment_data(deployment)
        data.update(url=job.ostr("html_url"), job=name)
        events.append(_event(repo, sha, "deployment", deployment.str("environment"), at,
                             Status.WAITING, **data))
    return events + _commit(repo, sha, "workflow_job", at, branch=job.ostr("head_branch"))


def _job_summary(attempt: object, failed_steps: list[Any]) -> str | None:
    parts = []
    if isinstance(attempt, int) and attempt > 1:
        parts.append(f"attempt {attempt}")
    if failed_steps:
        parts.append(f"failed at: {', '.join(str(s) for s in failed_steps)}")
    return ", ".join(parts) or None


def _deployment_data(deployment: Fields) -> dict[str, Any]:
    return {
        "deployment_id": str(deployment.req("id")),
        "description": deployment.ostr("description"),
        "creator": deployment.ostr("creator.login"),
        "ref": deployment.ostr("ref"),
    }


@router.register("deployment")
def _deployment(p: Fields, received_at: datetime) -> list[Event]:
    repo, deployment = _repo(p), p.obj("deployment")
    sha = normalise_sha(deployment.req("sha"))
    at = _time(deployment, "created_at", fallback=received_at)
    return [
        _event(repo, sha, "deployment", deployment.str("environment"), at, Status.PENDING,
               **_deployment_data(deployment))
    ]


@router.register("deployment_status")
def _deployment_status(p: Fields, received_at: datetime) -> list[Event]:
    repo, deployment, ds = _repo(p), p.obj("deployment"), p.obj("deployment_status")
    status = st.from_deployment_state(ds.str("state"))
    if status is None:
        return []  # `inactive`: a newer deployment replaced this one; the card keeps its news
    sha = normalise_sha(deployment.req("sha"))
    environment = ds.ostr("environment") or deployment.str("environment")
    at = _time(ds, "updated_at", "created_at", fallback=received_at)
    data = _deployment_data(deployment)
    data.update(
        url=ds.ostr("environment_url") or ds.ostr("target_url") or ds.ostr("log_url"),
        log_url=ds.ostr("log_url") or ds.ostr("target_url"),
        description=ds.ostr("description") or data["description"],
    )
    return [_event(repo, sha, "deployment", environment, at, status, **data)]


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
    repo, run = _repo(p), p.obj("workflow_run")
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
        events.append(_event(repo, sha, "approval", env, at, status, state=state,
                             reviewers=reviewers or None, comment=p.ostr("comment") or None,
                             run_id=run.oint("id"), requestor=p.ostr("requestor.login")))
        if approver and state != "waiting":
            events.append(_event(repo, sha, "approver", f"{env}:{approver}", at, status,
                                 environment=env, login=approver, state=state))
    return events
