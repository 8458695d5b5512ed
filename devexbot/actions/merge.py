"""Merge: re-check the pull request at click time, then merge it pinned to the card's SHA.

Whether it may merge is `correlation.merge_verdict`'s decision, and by which method
`correlation.merge_methods`'; this reads the facts they decide on from GitHub, and merges.
"""

from __future__ import annotations

import re
import time

from github import GithubException
from github.PullRequest import PullRequest
from github.Repository import Repository

from correlation.enqueue import ENQUEUE_LABEL
from correlation.merge_methods import (
    MERGE_LABELS,
    METHOD_NAMES,
    RepoMergeSettings,
    merge_methods,
    no_merge_method,
)
from correlation.merge_verdict import CheckFacts, PullFacts, checks_refusal, pull_refusal
from correlation.policies import MERGE_METHODS, MergeMethod, MergePolicy
from devexbot.actions.core import ActionContext, ActionSpec, Outcome, Refused, slack_time
from devexbot.actions.ids import ActionId
from devexbot.clients.github import GitHubApi, GitHubNotConfigured
from devexbot.store.merge_settings import MergeSettings, settings_of
from devexbot.store.models import utcnow

# GitHub's 405 for a method the repository's settings turn off ("Merge commits are not
# allowed on this repository.", "Squash merges …", "Rebase merges …").
_METHOD_REFUSED = re.compile(r"\b(merge commits|squash merges|rebase merges) are not allowed",
                             re.IGNORECASE)

# GitHub's 405 where the base branch's rules require its merge queue ("Changes must be made
# through the merge queue").
_QUEUE_REQUIRED = re.compile(r"\bthrough the merge queue\b", re.IGNORECASE)


class Merge:
    """Merge the card's pull request at the card's SHA, by the method its button shows."""

    spec = ActionSpec(ActionId.MERGE, permission="merge")

    def __init__(self, github: GitHubApi, policy: MergePolicy, settings: MergeSettings) -> None:
        self._github, self._policy, self._settings = github, policy, settings

    def claim_key(self, ctx: ActionContext) -> str:
        value = ctx.click.value
        return f"merge:{value.repo}#{value.pr}@{value.sha}"

    def __call__(self, ctx: ActionContext) -> Outcome:
        value, policy = ctx.click.value, self._policy
        if value.pr is None:
            raise Refused("this card has no pull request to merge")
        if not self._github.configured:
            raise GitHubNotConfigured()
        repo = self._github.repo(value.repo)
        # The read of the repository shows its settings now: the card follows if they moved.
        self._settings.record(value.repo, settings_of(repo))
        method = self._method(value.repo, value.method)
        pr = fresh_pull(repo, value.pr)
        # The checks are read only for a pull request that may still merge.
        refusal = (pull_refusal(pull_facts(pr), value.sha)
                   or checks_refusal(check_facts(repo, value.sha, pr.base.ref), policy))
        if refusal is not None:
            raise Refused(refusal)
        try:
            result = pr.merge(sha=value.sha, merge_method=method,
                              commit_title=f"{pr.title} (#{pr.number})")
        except GithubException as exc:
            message = github_message(exc)
            if exc.status == 405 and _METHOD_REFUSED.search(message):
                self._settings.refused(value.repo, method)  # the card drops it
                raise Refused(f"GitHub says #{pr.number} cannot be merged: {message} "
                              f"{self._offer(value.repo)}") from None
            if exc.status == 405 and _QUEUE_REQUIRED.search(message):
                self._settings.queue_rules.record(value.repo, pr.base.ref, True)  # the button
                raise Refused(f"#{pr.number} cannot be merged directly: `{pr.base.ref}` takes "
                              "pull requests through GitHub's merge queue. The card now "
                              f"offers {ENQUEUE_LABEL}.") from None
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

    def _method(self, repo: str, shown: str | None) -> MergeMethod:
        """The button's method if the config and the repository still allow it; a button
        that names none takes the most preferred that is allowed."""
        settings = self._settings.known(repo)
        methods = merge_methods(repo, self._policy, settings)
        if not methods:
            raise Refused(no_merge_method(repo, self._policy, settings)
                          .removeprefix("Merge unavailable: "))
        for method in methods:
            if shown in (None, method):
                return method
        self._settings.render_again(repo)  # a button from before the change
        name = METHOD_NAMES.get(str(shown), str(shown))
        repo_allows = (settings or RepoMergeSettings()).allows
        if any(m == shown and repo_allows(m) for m in MERGE_METHODS):
            why = f"the bot's config no longer allows {name} on {repo}"
        else:
            why = f"{repo} no longer allows {name} on GitHub"
        raise Refused(f"{why}. {self._offer(repo)}")

    def _offer(self, repo: str) -> str:
        settings = self._settings.known(repo)
        methods = merge_methods(repo, self._policy, settings)
        if not methods:
            return no_merge_method(repo, self._policy, settings).removeprefix(
                "Merge unavailable: ") + "."
        return f"The card now offers {MERGE_LABELS[methods[0]]}."


def fresh_pull(repo: Repository, number: int) -> PullRequest:
    pr = repo.get_pull(number)
    # GitHub computes mergeability in the background: `None` means "ask again shortly".
    for _ in range(3):
        if pr.mergeable is not None or pr.state != "open":
            break
        time.sleep(1)
        pr = repo.get_pull(number)
    return pr


def pull_facts(pr: PullRequest) -> PullFacts:
    """What the merge decision reads of the pull request."""
    return PullFacts(
        number=pr.number, state=pr.state, head_sha=pr.head.sha, merged=pr.merged,
        merged_by=pr.merged_by.login if pr.merged_by else None, draft=bool(pr.draft),
        mergeable=pr.mergeable, mergeable_state=pr.mergeable_state)


def check_facts(repo: Repository, sha: str, branch: str) -> CheckFacts:
    """The commit's checks, each by name (a check run outranks a status of the same
    name), and the checks `branch`'s protection requires."""
    commit = repo.get_commit(sha)
    results: dict[str, str] = {}
    for status in commit.get_combined_status().statuses:
        results[status.context] = "success" if status.state == "success" else status.state
    for run in commit.get_check_runs():
        results[run.name] = run.conclusion or run.status
    return CheckFacts(tuple(results.items()), _required_checks(repo, branch))


def _required_checks(repo: Repository, branch: str) -> tuple[str, ...] | None:
    try:
        checks = repo.get_branch(branch).get_required_status_checks()
    except GithubException as exc:
        if exc.status == 404:  # not protected
            return None
        raise
    return tuple(checks.contexts)


def github_message(exc: GithubException) -> str:
    data = exc.data if isinstance(exc.data, dict) else {}
    return str(data.get("message") or exc)
