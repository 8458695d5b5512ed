"""Pushes, pull requests and their reviews."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from correlation.events import Event, normalise_sha
from correlation.github.common import (
    MAX_PR_BODY,
    ZERO_SHA,
    Router,
    commit_fields,
    commit_url,
    event_time,
    github_event,
    opt_obj,
    person,
    repo_of,
    trimmed,
)
from correlation.payload import Fields
from correlation.status import Status

router = Router()


@router.register("push")
def _push(p: Fields, received_at: datetime) -> list[Event]:
    after = p.str("after")
    if p.opt("deleted") or after == ZERO_SHA:
        return []
    repo, sha = repo_of(p), normalise_sha(after)
    ref = p.str("ref")
    # `pushed_at` is missing from some pushes; the head commit's own time still beats the
    # arrival, so the same events always make the same card.
    pushed_at = event_time(p, "repository.pushed_at", "head_commit.timestamp",
                           fallback=received_at)
    events = []
    if ref.startswith("refs/heads/"):
        events += commit_fields(repo, sha, "push", pushed_at,
                                branch=ref.removeprefix("refs/heads/"))
    head = opt_obj(p, "head_commit")
    if head is not None:
        at = event_time(head, "timestamp", fallback=pushed_at)
        events += commit_fields(
            repo, sha, "push", at,
            message=head.ostr("message"),
            author=person(opt_obj(head, "author")),
            url=head.ostr("url") or commit_url(p, sha),
        )
    return events


def _pr_data(pr: Fields) -> dict[str, Any]:
    state = "merged" if pr.opt("merged") or pr.opt("merged_at") else pr.str("state")
    return {
        "number": int(pr.req("number")),
        "title": pr.ostr("title"),
        "body": trimmed(pr.ostr("body"), MAX_PR_BODY),
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
    repo, pr = repo_of(p), p.obj("pull_request")
    data = _pr_data(pr)
    at = event_time(pr, "updated_at", "closed_at", "created_at", fallback=received_at)
    name = str(data["number"])
    head = data["head_sha"]
    # A later stage wins a tie on time, as for checks: merged or closed beats open.
    stage = _PR_STAGE.get(str(data["state"]), Status.PENDING)
    events = [github_event(repo, head, "pr", name, at, stage, **data)]
    if p.opt("action") in ("ready_for_review", "reopened") and not data["draft"]:
        # Since when the pull request waits for review (review reminders count from here);
        # a slot of its own, as the `pr` slot's next event would forget it.
        events.append(github_event(repo, head, "pr_ready", name, at, number=data["number"]))
    if data["head_ref"]:
        events += commit_fields(repo, head, "pull_request", at, branch=data["head_ref"])
    before = p.opt("before")
    if p.opt("action") == "synchronize" and isinstance(before, str) and before != ZERO_SHA:
        # The previous head learns it was superseded.
        events.append(github_event(repo, normalise_sha(before), "pr", name, at, stage, **data))
    merge_sha = pr.opt("merge_commit_sha")
    if data["state"] == "merged" and merge_sha:
        merge_sha = normalise_sha(merge_sha)
        events.append(github_event(repo, merge_sha, "merged_pr", name, at, stage, **data))
        if data["base"]:
            events += commit_fields(repo, merge_sha, "merge", at, branch=data["base"])
    return events


@router.register("pull_request_review")
def _pull_request_review(p: Fields, received_at: datetime) -> list[Event]:
    repo, review = repo_of(p), p.obj("review")
    state = str(review.req("state")).lower()
    if p.opt("action") == "dismissed":
        state = "dismissed"
    if state == "commented":
        return []  # a comment neither approves nor blocks
    number = int(p.req("pull_request.number"))
    login = review.str("user.login")
    sha = normalise_sha(review.opt("commit_id") or p.req("pull_request.head.sha"))
    at = event_time(review, "submitted_at", fallback=received_at)
    return [github_event(repo, sha, "review", f"{number}:{login}", at,
                   number=number, login=login, state=state)]
