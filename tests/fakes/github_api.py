"""FakeGitHub: GitHub's REST v3 API as a real HTTP server on 127.0.0.1, for the real PyGithub.

    with FakeGitHub() as github:
        github.add_repo("octo/app")
        number = github.add_pull("octo/app", head="feature/x")
        gh = Github(base_url=github.base_url, auth=Auth.Token(github.token))
        gh.get_repo("octo/app").get_pull(number).merge(sha=..., merge_method="squash")
        assert github.merges()[0].merge_method == "squash"

State and rules live in `GitHubState` (sans-IO), endpoints in `github_routes`, callers in
`github_auth`; this module adds HTTP, GitHub's error bodies and headers, scripted faults
(`fail_next`, `slow_next`, `rate_limit_next`, `delay`) and the test-facing facade.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import pytest
from github import Auth, Github

from tests.fakes import github_hook_routes as github_hook_routes  # registers its routes
from tests.fakes.github_auth import BAD_JWT, Identity, authenticate, public_key
from tests.fakes.github_graphql import MergeQueueFake
from tests.fakes.github_hooks import Hook, LoggedAttempt
from tests.fakes.github_http import HttpFake, Reply, Request
from tests.fakes.github_models import (
    DEFAULT_LOGIN,
    DEFAULT_TOKEN,
    DeploymentReview,
    IssuedToken,
    Merge,
    Pull,
    Repo,
    Rerun,
    WorkflowRun,
)
from tests.fakes.github_routes import find_route
from tests.fakes.github_state import GitHubError, GitHubState

DOCS = "https://docs.github.com/rest"
REASONS = {
    400: "Bad Request",
    401: "Bad credentials",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    422: "Validation Failed",
    500: "Server Error",
    502: "Server Error",
    503: "Service Unavailable",
}
SECONDARY_RATE_LIMIT = (
    "You have exceeded a secondary rate limit. Please wait a few minutes before you try "
    "again. If you reach out to GitHub Support for help, please include the request ID "
)
RATE_LIMIT = 5000


def error_body(status: int, message: str, **extra: Any) -> dict[str, Any]:
    return {"message": message, "documentation_url": DOCS, "status": str(status), **extra}


class FakeGitHub(MergeQueueFake, HttpFake):
    """A local GitHub REST API at `base_url` (`http://127.0.0.1:<port>` plus `path_prefix`).

    Context manager and pytest fixture (`fake_github`). `token` authenticates as `login`;
    `tokens` adds more {token: login}. `path_prefix="/api/v3"` serves it like GitHub
    Enterprise Server. Reads return snapshots (copies).
    """

    thread_name = "fake-github"

    def __init__(
        self,
        *,
        token: str = DEFAULT_TOKEN,
        login: str = DEFAULT_LOGIN,
        tokens: Mapping[str, str] | None = None,
        path_prefix: str = "",
        delay: float = 0.0,
    ) -> None:
        super().__init__(delay=delay)
        self.token, self.login = token, login
        self.path_prefix = path_prefix.rstrip("/")
        self.state = GitHubState()
        self.state.tokens = {token: login, **(tokens or {})}
        for user in self.state.tokens.values():
            self.state.ensure_user(user)
        self._used: dict[str, int] = {}
        self._used_lock = threading.Lock()

    def start(self) -> FakeGitHub:
        super().start()
        self.state.web = self.url
        self.state.api = self.base_url
        return self

    @property
    def base_url(self) -> str:
        """What `Github(base_url=...)` and `GITHUB_API_URL` take (no trailing slash)."""
        return self.url + self.path_prefix

    def client_options(self, **overrides: Any) -> dict[str, Any]:
        """Keyword arguments for `Github(...)` / `GithubIntegration(...)` on this fake.

        PyGithub waits 0.25 s between requests and 1 s between writes by default, and
        retries 5xx and rate limits; here both are off (pass overrides to turn them on).
        """
        return {
            "base_url": self.base_url,
            "retry": None,
            "timeout": 5,
            "seconds_between_requests": None,
            "seconds_between_writes": None,
            **overrides,
        }

    def client(self, **kwargs: Any) -> Github:
        """A real PyGithub client on this fake as `token` (see `client_options`)."""
        kwargs.setdefault("auth", Auth.Token(self.token))
        return Github(**self.client_options(**kwargs))

    # ---- setup -----------------------------------------------------------------------

    def add_repo(
        self,
        full_name: str,
        *,
        default_branch: str = "main",
        allow_merge_commit: bool = True,
        allow_squash_merge: bool = True,
        allow_rebase_merge: bool = True,
        merge_settings_visible: bool = True,
        private: bool = True,
        description: str | None = None,
        owner_type: str = "Organization",
    ) -> str:
        """A repository with one commit on `default_branch`; returns that commit's sha.
        `merge_settings_visible=False` leaves its allow_* fields out, as GitHub does for
        tokens that may not see its settings."""
        repo = self.state.add_repo(
            full_name,
            owner_type=owner_type,
            default_branch=default_branch,
            allow_merge_commit=allow_merge_commit,
            allow_squash_merge=allow_squash_merge,
            allow_rebase_merge=allow_rebase_merge,
            merge_settings_visible=merge_settings_visible,
            private=private,
            description=description,
        )
        return repo.branches[default_branch]

    def update_repo(self, full_name: str, **fields: Any) -> None:
        """Change a repository's settings (allow_merge_commit, allow_squash_merge, …), as
        an admin does on GitHub."""
        with self.state.lock:
            repo = self.state.repo(full_name)
            for name, value in fields.items():
                if not hasattr(repo, name):
                    raise AttributeError(name)
                setattr(repo, name, value)

    def add_user(self, login: str, *, name: str | None = None, email: str | None = None) -> None:
        with self.state.lock:
            user = self.state.ensure_user(login)
            user.name, user.email = name, email

    def add_token(self, token: str, login: str) -> None:
        """Accept `token` (personal access token) as `login`."""
        with self.state.lock:
            self.state.ensure_user(login)
            self.state.tokens[token] = login

    def add_commit(
        self,
        repo: str,
        message: str,
        *,
        sha: str | None = None,
        branch: str | None = None,
        parents: Iterable[str] | None = None,
        author: str = "ana",
    ) -> str:
        """A commit on `branch` (default branch if None; a new branch starts from it)."""
        return self.state.add_commit(
            repo, message, sha=sha, branch=branch, parents=parents, author=author
        )

    def push(self, repo: str, branch: str, message: str, *, author: str = "ana") -> str:
        """A new commit on `branch`; open pulls from `branch` move their head to it."""
        return self.state.push(repo, branch, message, author=author)

    def branch_head(self, repo: str, branch: str | None = None) -> str:
        with self.state.lock:
            found = self.state.repo(repo)
            return found.branches[branch or found.default_branch]

    def protect_branch(
        self,
        repo: str,
        branch: str,
        contexts: Iterable[str],
        *,
        strict: bool = False,
        app_ids: Mapping[str, int | None] | None = None,
    ) -> None:
        """Require `contexts` (status contexts or check names) to be green to merge into it."""
        self.state.protect_branch(repo, branch, contexts, strict=strict, app_ids=app_ids)

    def add_pull(
        self,
        repo: str,
        *,
        head: str,
        title: str = "A change",
        base: str | None = None,
        head_sha: str | None = None,
        user: str = "ana",
        number: int | None = None,
        draft: bool = False,
        mergeable: bool | None = True,
        mergeable_state: str | None = None,
        labels: Iterable[str] = (),
        requested_reviewers: Iterable[str] = (),
        requested_teams: Iterable[str] = (),
        body: str | None = None,
    ) -> int:
        """An open pull from `head` (a commit is made there if needed) into `base`.

        `mergeable_state=None` derives it like GitHub: draft, dirty (mergeable=False),
        blocked (required checks not green), behind (strict), unstable, clean.
        """
        return self.state.add_pull(
            repo,
            head=head,
            title=title,
            base=base,
            head_sha=head_sha,
            user=user,
            number=number,
            draft=draft,
            mergeable=mergeable,
            mergeable_state=mergeable_state,
            labels=list(labels),
            requested_reviewers=list(requested_reviewers),
            requested_teams=list(requested_teams),
            body=body,
        )

    def update_pull(self, repo: str, number: int, **fields: Any) -> None:
        """Change a pull's fields (state, draft, mergeable, mergeable_state, title, …)."""
        with self.state.lock:
            _, pull = self.state.pull(repo, number)
            for name, value in fields.items():
                if not hasattr(pull, name):
                    raise AttributeError(name)
                setattr(pull, name, value)

    def add_review(
        self, repo: str, number: int, user: str, state: str = "APPROVED", body: str = ""
    ) -> int:
        return self.state.add_review(repo, number, user, state, body)

    def set_status(
        self,
        repo: str,
        sha: str,
        context: str,
        state: str,
        *,
        description: str | None = None,
        target_url: str | None = None,
        creator: str = "devexbot",
    ) -> int:
        """A commit status (error, failure, pending, success); the latest per context counts."""
        return self.state.set_status(
            repo,
            sha,
            context,
            state,
            description=description,
            target_url=target_url,
            creator=creator,
        )

    def add_check_run(
        self,
        repo: str,
        sha: str,
        name: str,
        *,
        status: str = "completed",
        conclusion: str | None = "success",
        details_url: str | None = None,
        app_slug: str = "github-actions",
        app_id: int = 15368,
        title: str | None = None,
        summary: str | None = None,
    ) -> int:
        """A check run on `sha`; the latest per name counts (`filter=latest`)."""
        return self.state.add_check_run(
            repo,
            sha,
            name,
            status=status,
            conclusion=conclusion,
            details_url=details_url,
            app_slug=app_slug,
            app_id=app_id,
            title=title,
            summary=summary,
        )

    def add_workflow_run(
        self,
        repo: str,
        *,
        head_sha: str | None = None,
        head_branch: str | None = None,
        name: str = "CI",
        event: str = "push",
        status: str = "completed",
        conclusion: str | None = None,
        actor: str = "ana",
        path: str = ".github/workflows/ci.yml",
        run_id: int | None = None,
        jobs: Mapping[str, str | None] | None = None,
    ) -> int:
        """An Actions run (head of `head_branch` by default); `jobs` {name: conclusion}."""
        run = self.state.add_workflow_run(
            repo,
            head_sha=head_sha,
            head_branch=head_branch,
            name=name,
            event=event,
            status=status,
            conclusion=conclusion,
            actor=actor,
            path=path,
            run_id=run_id,
        )
        for job, job_conclusion in (jobs or {}).items():
            job_status = "completed" if job_conclusion else "in_progress"
            self.state.add_job(repo, run, job, status=job_status, conclusion=job_conclusion)
        return run

    def add_job(
        self,
        repo: str,
        run_id: int,
        name: str,
        *,
        status: str = "completed",
        conclusion: str | None = "success",
        log: str = "",
        steps: Iterable[Mapping[str, Any]] = (),
    ) -> int:
        """A job of the run's current attempt, with the text its log download returns."""
        return self.state.add_job(
            repo, run_id, name, status=status, conclusion=conclusion, log=log, steps=steps
        )

    def append_job_log(self, repo: str, job_id: int, text: str) -> None:
        with self.state.lock:
            _, _, job = self.state.job(repo, job_id)
            job.log += text

    def complete_run(self, repo: str, run_id: int, conclusion: str = "success") -> None:
        """Finish the latest attempt's unfinished jobs and the run with `conclusion`."""
        self.state.complete_run(repo, run_id, conclusion)

    def add_pending_deployment(
        self,
        repo: str,
        run_id: int,
        environment: str,
        *,
        reviewers: Iterable[str] = (),
        teams: Iterable[str] = (),
        wait_timer: int = 0,
    ) -> int:
        """The run waits for a required reviewer of `environment`; returns the environment id.

        `teams` are slugs of the repository owner's teams (or "org/slug").
        """
        return self.state.add_pending_deployment(
            repo, run_id, environment, reviewers=reviewers, teams=teams, wait_timer=wait_timer
        )

    def add_collaborator(self, repo: str, login: str, permission: str = "write") -> None:
        """permission: read, triage, write, maintain or admin."""
        self.state.add_collaborator(repo, login, permission)

    def add_team(
        self,
        org: str,
        slug: str,
        *,
        members: Iterable[str] = (),
        repos: Mapping[str, str] | Iterable[str] = (),
        name: str | None = None,
    ) -> int:
        """A team of `org` with `members`, with access to `repos` ({full name: permission})."""
        return self.state.add_team(org, slug, members=members, repos=repos, name=name)

    def add_label(
        self, repo: str, name: str, *, color: str = "ededed", description: str | None = None
    ) -> int:
        with self.state.lock:
            label = self.state.label(self.state.repo(repo), name)
            label.color, label.description = color, description
            return label.id

    def add_app(self, app_id: int, public_key_pem: Any, *, slug: str = "devexbot") -> None:
        """A GitHub App whose JWTs are checked against `public_key_pem` (PEM or key object)."""
        self.state.add_app(app_id, public_key(public_key_pem), slug=slug)

    def add_installation(
        self,
        installation_id: int,
        app_id: int,
        account: str,
        *,
        repositories: Iterable[str] | None = None,
        permissions: Mapping[str, str] | None = None,
    ) -> None:
        """The app installed on `account` (all its repositories, or only `repositories`)."""
        self.state.add_installation(
            installation_id, app_id, account, repositories=repositories, permissions=permissions
        )

    @property
    def token_ttl(self) -> float:
        """Seconds an installation token lives (GitHub: one hour)."""
        return self.state.token_ttl

    @token_ttl.setter
    def token_ttl(self, seconds: float) -> None:
        self.state.token_ttl = seconds

    # ---- webhooks and their delivery logs ----------------------------------------------

    def add_hook(self, url: str, *, secret: str, repo: str | None = None,
                 org: str | None = None, app_id: int | None = None,
                 hook_id: int = 0) -> Hook:
        """A webhook of `repo`, `org` or the App `app_id` (the App's hook has no id)."""
        if repo is not None:
            return self.state.hooks.add("repo", repo, hook_id, url=url, secret=secret)
        if org is not None:
            return self.state.hooks.add("org", org, hook_id, url=url, secret=secret)
        assert app_id is not None, "a hook of a repo, an org or an app"
        return self.state.hooks.add("app", str(app_id), 0, url=url, secret=secret)

    def send(self, hook: Hook, event: str, payload: dict[str, Any] | bytes, *,
             guid: str | None = None) -> LoggedAttempt:
        """GitHub delivers `event` to the hook's URL and logs how it went."""
        return self.state.hooks.send(hook, event, payload, guid=guid)

    def send_queued(self) -> list[LoggedAttempt]:
        """GitHub carries out the redeliveries asked for (it answered 202 to each)."""
        return self.state.hooks.send_queued()

    def hook_log(self, hook: Hook) -> list[LoggedAttempt]:
        """The hook's delivery log, newest first."""
        return self.state.hooks.entries(hook)

    # ---- faults ----------------------------------------------------------------------

    def fail_next(
        self,
        target: str = "*",
        *,
        status: int = 500,
        times: int = 1,
        message: str | None = None,
        retry_after: int | None = None,
    ) -> None:
        """The next `times` calls matching `target` answer `status` with GitHub's error body.

        target: "*", a verb ("PUT"), a path glob ("/repos/*/pulls/*/merge") or both.
        """
        headers = {} if retry_after is None else {"Retry-After": str(retry_after)}
        body = error_body(status, message or REASONS.get(status, "Error"))
        self._fail_next(target, Reply(status, body, headers=headers), times)

    def rate_limit_next(
        self,
        target: str = "*",
        *,
        times: int = 1,
        retry_after: int | None = 60,
        primary: bool = False,
    ) -> None:
        """403 rate limit: secondary (with `Retry-After` unless None) or primary (reset)."""
        if primary:
            reset = int(time.time()) + (retry_after or 60)
            headers = {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(reset)}
            message = "API rate limit exceeded for user ID 1."
        else:
            headers = {} if retry_after is None else {"Retry-After": str(retry_after)}
            message = SECONDARY_RATE_LIMIT + secrets.token_hex(8).upper() + "."
        self._fail_next(target, Reply(403, error_body(403, message), headers=headers), times)

    # ---- assertions ------------------------------------------------------------------

    def repo(self, full_name: str) -> Repo:
        """The repository as it stands (branches, labels, collaborators, protection)."""
        return self.state.snapshot(self.state.repo(full_name))

    def pull(self, repo: str, number: int) -> Pull:
        """The pull as it stands (state, merged, labels, requested reviewers, …)."""
        return self.state.snapshot(self.state.pull(repo, number)[1])

    def merges(self, repo: str | None = None) -> list[Merge]:
        """Merges GitHub accepted, oldest first."""
        with self.state.lock:
            return [m for m in self.state.merges if repo is None or m.repo == repo]

    def run(self, repo: str, run_id: int) -> WorkflowRun:
        """The workflow run as it stands, with every attempt's jobs, re-runs and reviews."""
        return self.state.snapshot(self.state.run(repo, run_id)[1])

    def reruns(self, repo: str, run_id: int) -> list[Rerun]:
        return self.run(repo, run_id).reruns

    def deployment_reviews(
        self, repo: str | None = None, run_id: int | None = None
    ) -> list[DeploymentReview]:
        """Approvals and rejections of pending deployments, oldest first."""
        with self.state.lock:
            every = [r for run in self.state.runs.values() for r in run.reviews]
        found = [r for r in every if repo in (None, r.repo) and run_id in (None, r.run_id)]
        return sorted(found, key=lambda r: r.at)

    def issued_tokens(self) -> list[IssuedToken]:
        with self.state.lock:
            return list(self.state.issued.values())

    def expire_tokens(self) -> None:
        """Every installation token issued so far expires now (the next use answers 401)."""
        with self.state.lock:
            for token, issued in self.state.issued.items():
                self.state.issued[token] = IssuedToken(
                    issued.token,
                    issued.installation_id,
                    time.time() - 1,
                    issued.permissions,
                    issued.login,
                )

    def reset(self) -> None:
        """Forget calls and scripted faults; keep repositories, pulls, runs and people."""
        self.faults.clear()
        self._forget_calls()

    # ---- HTTP ------------------------------------------------------------------------

    def _answer(self, request: Request) -> Reply:
        found = find_route(request.method, request.path)
        if found is None:
            return Reply(404, error_body(404, "Not Found"))
        endpoint, params = found
        try:
            caller = None if endpoint.auth == "none" else self._caller(request, endpoint.auth)
            with self.state.lock:
                if caller is not None and caller.installation_id and "owner" in params:
                    repo = self.state.repo(f"{params['owner']}/{params['repo']}")
                    if not self.state.covers(caller.installation_id, repo):
                        raise GitHubError(404, "Not Found")
                return endpoint.handler(self.state, request, caller, **params)
        except GitHubError as exc:
            return Reply(exc.status, error_body(exc.status, exc.message, **exc.extra))

    def _caller(self, request: Request, auth: str) -> Identity:
        caller = authenticate(self.state, request.headers.get("authorization"))
        request.user = caller.login
        if auth == "app" and caller.kind != "app":
            raise GitHubError(401, BAD_JWT)
        if auth == "token" and caller.kind == "app":
            raise GitHubError(403, "Resource not accessible by integration")
        return caller

    def _extra_headers(self, request: Request, reply: Reply) -> dict[str, str]:
        key = request.user or "anonymous"
        with self._used_lock:
            used = self._used[key] = self._used.get(key, 0) + 1
        return {
            "X-GitHub-Request-Id": secrets.token_hex(8).upper(),
            "X-GitHub-Media-Type": "github.v3; format=json",
            "X-GitHub-Api-Version-Selected": "2022-11-28",
            "X-RateLimit-Limit": str(RATE_LIMIT),
            "X-RateLimit-Remaining": str(max(RATE_LIMIT - used, 0)),
            "X-RateLimit-Reset": str(int(time.time()) + 3600),
            "X-RateLimit-Used": str(used),
            "X-RateLimit-Resource": "core",
        }


@pytest.fixture
def fake_github() -> Iterator[FakeGitHub]:
    """A running FakeGitHub (token `DEFAULT_TOKEN` as `devexbot`), stopped after the test."""
    with FakeGitHub() as fake:
        yield fake
