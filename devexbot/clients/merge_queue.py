"""GitHub's merge queue, through PyGithub's own requester (its auth, retries and base URL):
whether a branch's rules take pull requests only through the queue (REST "Get rules for a
branch"), and adding a pull request to the queue (GraphQL `enqueuePullRequest`, at
`https://api.github.com/graphql`, or `https://<host>/api/graphql` on GitHub Enterprise
Server, as PyGithub derives it from `GITHUB_API_URL`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from github import GithubException
from github.PullRequest import PullRequest
from github.Repository import Repository
from github.Requester import Requester

from correlation.enqueue import github_errors
from devexbot.errors import DevexbotError

MERGE_QUEUE_RULE = "merge_queue"
RULES_PER_PAGE = 100  # GitHub's maximum
MAX_RULE_PAGES = 10

ENQUEUE = """mutation Enqueue($pullRequestId: ID!, $expectedHeadOid: GitObjectID) {
  enqueuePullRequest(input: {pullRequestId: $pullRequestId, expectedHeadOid: $expectedHeadOid}) {
    mergeQueueEntry { position state enqueuedAt }
  }
}"""


class EnqueueRefused(DevexbotError):
    """GitHub did not add the pull request to the queue; the message is GitHub's, in a line."""


@dataclass(frozen=True)
class QueueEntry:
    """Where GitHub put the pull request: its place in the queue (1 is next) and state."""

    position: int | None
    state: str | None


def queue_required(repo: Repository, branch: str) -> bool:
    """Whether the rules active on `branch` (repository and organisation rulesets alike)
    include a `merge_queue` rule: pull requests into it merge only through the queue."""
    return branch_requires_queue(repo.requester, repo.url, branch)


def branch_requires_queue(requester: Requester, repo_url: str, branch: str) -> bool:
    """`queue_required` by the repository's API path (`/repos/owner/name`), with no
    repository object to read first."""
    url = f"{repo_url}/rules/branches/{quote(branch)}"
    for page in range(1, MAX_RULE_PAGES + 1):
        _, rules = requester.requestJsonAndCheck(
            "GET", url, parameters={"per_page": RULES_PER_PAGE, "page": page})
        found: list[Any] = rules if isinstance(rules, list) else []
        if any(isinstance(rule, dict) and rule.get("type") == MERGE_QUEUE_RULE
               for rule in found):
            return True
        if len(found) < RULES_PER_PAGE:
            break
    return False


def enqueue(pr: PullRequest, expected_head: str) -> QueueEntry:
    """Add `pr` to its base branch's merge queue, only while its head is `expected_head`;
    EnqueueRefused with GitHub's own words when GitHub does not."""
    variables = {"pullRequestId": pr.node_id, "expectedHeadOid": expected_head}
    try:
        _, data = pr.requester.graphql_query(ENQUEUE, variables)
    except GithubException as exc:
        raise EnqueueRefused(_refusal(exc)) from None
    entry = ((data.get("data") or {}).get("enqueuePullRequest") or {}).get("mergeQueueEntry")
    if not isinstance(entry, dict):
        raise EnqueueRefused("GitHub answered without a merge queue entry")
    position = entry.get("position")
    return QueueEntry(position if isinstance(position, int) else None,
                      str(entry["state"]) if entry.get("state") else None)


def _refusal(exc: GithubException) -> str:
    """GitHub's words: GraphQL's `errors` (answered with 200), else REST's `message`."""
    data = exc.data if isinstance(exc.data, dict) else {}
    errors = data.get("errors")
    if isinstance(errors, list) and errors:
        return github_errors(e for e in errors if isinstance(e, dict))
    return github_errors([{"message": data.get("message") or f"HTTP {exc.status}"}])
