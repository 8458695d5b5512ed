"""GitHub's merge queue in the fake: the REST "Get rules for a branch" endpoint, GraphQL's
`enqueuePullRequest` mutation at `/graphql` (`/api/graphql` beside `/api/v3` on GitHub
Enterprise Server), and the `merge_group` deliveries GitHub sends when it takes a pull
request into the queue.

GraphQL answers 200 with `{"data": ...}`, or with `{"errors": [...]}` (each with `type`,
`path`, `locations` and `message`) when it refuses, as GitHub does. The fake reads enough of
the query to act: the mutation's field and its `input`, given inline (literals or
`$variables`) or as one `$input` variable. The refusals' words are the fake's own, except
where a test scripts GitHub's (`refuse_next_enqueue`).

GitHub sends its deliveries after it answers; the fake holds them until the test calls
`send_webhooks`, which signs each as GitHub signs it.
"""

from __future__ import annotations

import json
import re
import time
from typing import Any

from tests.fakes.github_auth import Identity
from tests.fakes.github_http import Reply, Request
from tests.fakes.github_models import Enqueued, Json, Pull, Repo
from tests.fakes.github_objects import iso, node_id, repo_json, user_json
from tests.fakes.github_routes import REPO, listed, ok, route
from tests.fakes.github_state import GitHubError, GitHubState
from tests.github_sender import github_headers

RULESET_ID = 42
QUEUE_PARAMETERS = {
    "check_response_timeout_minutes": 60, "grouping_strategy": "ALLGREEN",
    "max_entries_to_build": 5, "max_entries_to_merge": 5, "merge_method": "MERGE",
    "min_entries_to_merge": 1, "min_entries_to_merge_wait_minutes": 5,
}
_FIELD = re.compile(r"\benqueuePullRequest\s*\(\s*input\s*:\s*(\$\w+|\{[^}]*\})\s*\)")
_ARGUMENT = re.compile(r'(\w+)\s*:\s*(\$\w+|"(?:[^"\\]|\\.)*"|true|false|null)')
_ENTRY_FIELDS = ("position", "state", "enqueuedAt")


# ---- REST: the rules active on a branch ------------------------------------------------


@route("GET", REPO + r"/rules/branches/(?P<branch>.+)")
def branch_rules(
    gh: GitHubState, request: Request, caller: Identity, owner: str, repo: str, branch: str
) -> Reply:
    found = gh.repo(f"{owner}/{repo}")
    source = {"ruleset_source_type": "Repository", "ruleset_source": found.full_name,
              "ruleset_id": RULESET_ID}
    rules: list[Json] = [{"type": "deletion", **source}, {"type": "non_fast_forward", **source}]
    if (found.full_name, branch) in gh.merge_queues.required:
        rules.append({"type": "merge_queue", "parameters": dict(QUEUE_PARAMETERS), **source})
    return listed(gh, request, rules)


# ---- GraphQL -------------------------------------------------------------------------


@route("POST", r"/graphql")
def graphql(gh: GitHubState, request: Request, caller: Identity) -> Reply:
    try:
        body = request.json() or {}
    except ValueError:
        return ok({"errors": [{"message": "Problems parsing JSON"}]}, status=400)
    query, variables = str(body.get("query") or ""), body.get("variables") or {}
    found = _FIELD.search(query)
    if found is None:
        return ok({"errors": [{"path": ["query"], "extensions": {"code": "undefinedField"},
                               "locations": [{"line": 1, "column": 1}],
                               "message": "this fake answers only enqueuePullRequest"}]})
    given = _input(found.group(1), variables)
    gh.merge_queues.mutations.append(given)
    try:
        entry = enqueue(gh, given, by=caller.login)
    except GitHubError as exc:
        return ok({"data": {"enqueuePullRequest": None}, "errors": [{
            "type": exc.extra.get("type", "UNPROCESSABLE"), "path": ["enqueuePullRequest"],
            "locations": [{"line": 2, "column": 3}], "message": exc.message}]})
    shown = {name: value for name, value in entry.items() if name in query}
    return ok({"data": {"enqueuePullRequest": {"mergeQueueEntry": shown}}})


def _input(written: str, variables: Json) -> Json:
    if written.startswith("$"):
        value = variables.get(written[1:])
        return dict(value) if isinstance(value, dict) else {}
    given: Json = {}
    for name, value in _ARGUMENT.findall(written):
        given[name] = variables.get(value[1:]) if value.startswith("$") else json.loads(value)
    return given


def refused(message: str, error_type: str = "UNPROCESSABLE") -> GitHubError:
    return GitHubError(200, message, type=error_type)


def enqueue(gh: GitHubState, given: Json, *, by: str) -> Json:
    """Take the pull request into its base branch's queue, as `enqueuePullRequest` does."""
    wanted = given.get("pullRequestId")
    if not wanted:
        raise refused("Argument 'pullRequestId' on InputObject 'EnqueuePullRequestInput' is "
                      "required. Expected type ID!", "INVALID")
    repo, pull = _pull_of(gh, str(wanted))
    queues = gh.merge_queues
    if queues.refusals:
        scripted = queues.refusals.pop(0)
        raise refused(scripted["message"], scripted["type"])
    if pull.state != "open":
        raise refused("Pull request is closed")
    if (repo.full_name, pull.base_ref) not in queues.required:
        raise refused(f"Pull request cannot be enqueued: {pull.base_ref} has no merge queue")
    expected = given.get("expectedHeadOid")
    if expected and expected != pull.head_sha:
        raise refused("Expected head oid does not match the pull request's head")
    if any(e.repo == repo.full_name and e.number == pull.number for e in queues.entries):
        raise refused("Pull request is already queued")
    if pull.draft:
        raise refused("Draft pull requests cannot be queued")
    unmet = gh.unmet_required_checks(repo, pull.base_ref, pull.head_sha)
    if unmet:
        context, how = unmet[0]
        raise refused(f'Required status check "{context}" is {how}.')
    base_sha = repo.branches[pull.base_ref]
    branch = f"gh-readonly-queue/{pull.base_ref}/pr-{pull.number}-{base_sha}"
    queue_sha = gh.add_commit(
        repo.full_name, f"Merge pull request #{pull.number} from {repo.owner}/{pull.head_ref}"
        f"\n\n{pull.title}", branch=branch, parents=[base_sha, pull.head_sha], author=by)
    position = 1 + sum(1 for e in queues.entries if e.repo == repo.full_name)
    queues.entries.append(Enqueued(repo.full_name, pull.number, str(wanted), expected,
                                   queue_sha, position, by, time.time()))
    group = _group(gh, repo, pull.base_ref, base_sha, branch, queue_sha)
    queues.groups[(repo.full_name, pull.number)] = group
    queues.deliveries.append(("merge_group", {
        "action": "checks_requested", "merge_group": group, "repository": repo_json(gh, repo),
        "sender": user_json(gh, by)}))
    return {"position": position, "state": "AWAITING_CHECKS", "enqueuedAt": iso()}


def _pull_of(gh: GitHubState, wanted: str) -> tuple[Repo, Pull]:
    for repo in gh.repos.values():
        for pull in gh.pulls[repo.full_name].values():
            if node_id("PullRequest", pull.id) == wanted:
                return repo, pull
    raise refused(f"Could not resolve to a node with the global id of '{wanted}'", "NOT_FOUND")


def _group(gh: GitHubState, repo: Repo, base: str, base_sha: str, branch: str,
           sha: str) -> Json:
    """The `merge_group` of a queue entry, as GitHub's deliveries about it carry it."""
    commit = gh.commits[repo.full_name][sha]
    user = gh.ensure_user(commit.author)
    person = {"name": user.name or user.login, "email": user.email or
              f"{user.login}@users.noreply.github.com", "username": user.login}
    return {
        "head_sha": sha, "head_ref": f"refs/heads/{branch}", "base_sha": base_sha,
        "base_ref": f"refs/heads/{base}",
        "head_commit": {"id": sha, "tree_id": "0" * 40, "message": commit.message,
                        "timestamp": commit.at, "author": person,
                        "committer": {"name": "GitHub", "email": "noreply@github.com",
                                      "username": "web-flow"}},
    }


# ---- the test-facing facade ------------------------------------------------------------


class MergeQueueFake:
    """What FakeGitHub offers a test about the merge queue."""

    state: GitHubState
    path_prefix: str

    def require_merge_queue(self, repo: str, branch: str = "main", *,
                            required: bool = True) -> None:
        """A ruleset makes `branch` take pull requests only through the queue (or no more)."""
        with self.state.lock:
            key = (self.state.repo(repo).full_name, branch)
            if required:
                self.state.merge_queues.required.add(key)
            else:
                self.state.merge_queues.required.discard(key)

    def refuse_next_enqueue(self, message: str, *, error_type: str = "UNPROCESSABLE") -> None:
        """The next `enqueuePullRequest` is refused with these words (GitHub's own, say)."""
        with self.state.lock:
            self.state.merge_queues.refusals.append({"message": message, "type": error_type})

    def leave_queue(self, repo: str, number: int, reason: str = "dequeued") -> None:
        """The queue lets the pull request go (`dequeued`: a queue check failed; `merged`),
        and GitHub owes the `merge_group` `destroyed` delivery saying why."""
        with self.state.lock:
            found = self.state.repo(repo)
            queues = self.state.merge_queues
            queues.entries = [e for e in queues.entries
                              if (e.repo, e.number) != (found.full_name, number)]
            group = queues.groups.pop((found.full_name, number))
            queues.deliveries.append(("merge_group", {
                "action": "destroyed", "reason": reason, "merge_group": group,
                "repository": repo_json(self.state, found),
                "sender": user_json(self.state, "web-flow")}))

    def enqueued(self, repo: str | None = None) -> list[Enqueued]:
        """The pull requests the queue took, oldest first."""
        with self.state.lock:
            return [e for e in self.state.merge_queues.entries if repo in (None, e.repo)]

    def enqueue_mutations(self) -> list[Json]:
        """The input of every `enqueuePullRequest` received, taken or refused."""
        with self.state.lock:
            return [dict(m) for m in self.state.merge_queues.mutations]

    def send_webhooks(self, client: Any, secret: str, path: str = "/webhooks/github") -> list[int]:
        """Send the deliveries GitHub owes so far, signed with the hook's `secret`, through
        an httpx-style `client`; their answers' status codes."""
        with self.state.lock:
            owed = list(self.state.merge_queues.deliveries)
            self.state.merge_queues.deliveries.clear()
        statuses = []
        for event, payload in owed:
            body = json.dumps(payload).encode()
            answer = client.post(path, content=body,
                                 headers=github_headers(event, body, secret=secret))
            statuses.append(answer.status_code)
        return statuses

    def _unprefixed(self, path: str) -> str | None:
        """GitHub Enterprise Server answers GraphQL at /api/graphql, beside /api/v3."""
        graphql = self.path_prefix.removesuffix("/v3") + "/graphql"
        return "/graphql" if self.path_prefix and path == graphql else None
