"""Merge: re-check the pull request at click time, then merge it pinned to the card's SHA."""

from __future__ import annotations

import time

from github import GithubException
from github.PullRequest import PullRequest
from github.Repository import Repository

from devexbot.actions.core import ActionContext, ActionSpec, Outcome, Refused, slack_time
from devexbot.actions.ids import ActionId
from devexbot.clients.github import GitHubApi, GitHubNotConfigured
from devexbot.config import MergePolicy
from devexbot.store.models import utcnow

GREEN = {"success", "neutral", "skipped"}


class Merge:
    """Merge the card's pull request at the card's SHA, by one of the policy's methods."""

    spec = ActionSpec(ActionId.MERGE, permission="merge")

    def __init__(self, github: GitHubApi, policy: MergePolicy) -> None:
        self._github, self._policy = github, policy

    def claim_key(self, ctx: ActionContext) -> str:
        value = ctx.click.value
        return f"merge:{value.repo}#{value.pr}@{value.sha}"

    def __call__(self, ctx: ActionContext) -> Outcome:
        value, policy = ctx.click.value, self._policy
        method = value.method or policy.methods[0]
        if method not in policy.methods:
            raise Refused(f"merging by {method} is not allowed here")
        if value.pr is None:
            raise Refused("this card has no pull request to merge")
        if not self._github.configured:
            raise GitHubNotConfigured()
        repo = self._github.repo(value.repo)
        pr = _fresh_pull(repo, value.pr)
        _check_still_mergeable(pr, value.sha)
        _check_green(repo, pr, value.sha, require_green=policy.require_green)
        try:
            result = pr.merge(sha=value.sha, merge_method=method,
                              commit_title=f"{pr.title} (#{pr.number})")
        except GithubException as exc:
            message = _github_message(exc)
            if exc.status == 405:
                raise Refused(f"GitHub says #{pr.number} cannot be merged: {message}") from None
            if exc.status == 409:
                raise Refused(f"#{pr.number}'s head moved while merging; merge from the "
                              "newest card") from None
            raise
        merged = f", {result.sha[:7]}" if result.sha else ""
        return Outcome(
            reply=f"Merged #{pr.number} into {pr.base.ref} ({method}{merged}).",
            stamp=f"Merged by <@{ctx.click.user_id}> {slack_time(utcnow())} ({method})",
            target=f"#{pr.number}",
        )


def _fresh_pull(repo: Repository, number: int) -> PullRequest:
    pr = repo.get_pull(number)
    # GitHub computes mergeability in the background: `None` means "ask again shortly".
    for _ in range(3):
        if pr.mergeable is not None or pr.state != "open":
            break
        time.sleep(1)
        pr = repo.get_pull(number)
    return pr


def _check_still_mergeable(pr: PullRequest, sha: str) -> None:
    if pr.merged:
        by = pr.merged_by.login if pr.merged_by else "someone"
        raise Refused(f"#{pr.number} was already merged by {by}")
    if pr.state != "open":
        raise Refused(f"#{pr.number} is closed")
    if pr.draft:
        raise Refused(f"#{pr.number} is a draft")
    if pr.head.sha != sha:
        raise Refused(f"#{pr.number}'s head moved to {pr.head.sha[:7]}: merge from that "
                      "commit's card")
    if pr.mergeable is False:
        raise Refused(f"GitHub says #{pr.number} cannot be merged ({pr.mergeable_state}: "
                      "conflicts or rules)")
    if pr.mergeable_state == "blocked":
        raise Refused(f"#{pr.number} is blocked by branch protection (required reviews or "
                      "checks)")


def _check_green(repo: Repository, pr: PullRequest, sha: str, *, require_green: bool) -> None:
    """Required checks green, as branch protection names them; else, if the policy says so,
    every check of the commit."""
    commit = repo.get_commit(sha)
    results: dict[str, str] = {}
    for status in commit.get_combined_status().statuses:
        results[status.context] = "success" if status.state == "success" else status.state
    for run in commit.get_check_runs():
        results[run.name] = run.conclusion or run.status
    required = _required_checks(repo, pr.base.ref)
    if required is not None:
        missing = [name for name in required if results.get(name) not in GREEN]
        if missing:
            raise Refused(f"required checks are not green: {', '.join(sorted(missing))}")
        return
    if require_green:
        red = [name for name, result in results.items() if result not in GREEN]
        if red:
            raise Refused(f"{len(red)} check{'s' if len(red) != 1 else ''} not green: "
                          f"{', '.join(sorted(red)[:5])}")


def _required_checks(repo: Repository, branch: str) -> list[str] | None:
    try:
        checks = repo.get_branch(branch).get_required_status_checks()
    except GithubException as exc:
        if exc.status == 404:  # not protected
            return None
        raise
    return list(checks.contexts)


def _github_message(exc: GithubException) -> str:
    data = exc.data if isinstance(exc.data, dict) else {}
    return str(data.get("message") or exc)
