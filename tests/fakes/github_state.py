"""The fake GitHub's state and the rules it keeps, with no HTTP (sans-IO).

Setup methods (`add_repo`, `add_pull`, …) take what a test cares about and fill in the
rest; mutations the API performs (`merge_pull`, `rerun`, `review_deployments`, …) raise
`GitHubError` with GitHub's status and message. Public methods hold `lock` (re-entrant).
"""

from __future__ import annotations

import copy
import hashlib
import itertools
import threading
import time
from collections.abc import Iterable, Mapping
from typing import Any, TypeVar

from tests.fakes.github_hooks import HookLog
from tests.fakes.github_models import (
    MERGE_METHODS,
    PERMISSIONS,
    App,
    CheckRun,
    Commit,
    DeploymentReview,
    Installation,
    IssuedToken,
    Job,
    Label,
    Merge,
    MergeQueues,
    PendingDeployment,
    Protection,
    Pull,
    Repo,
    Rerun,
    Review,
    Status,
    Team,
    User,
    WorkflowRun,
)
from tests.fakes.github_objects import iso

T = TypeVar("T")
GREEN = frozenset({"success", "neutral", "skipped"})
MERGEABLE_STATES = frozenset({"clean", "unstable", "has_hooks"})


class GitHubError(Exception):
    """An error answer: `status` and GitHub's `message` (plus any extra body fields)."""

    def __init__(self, status: int, message: str, **extra: Any) -> None:
        super().__init__(f"{status} {message}")
        self.status, self.message, self.extra = status, message, extra


def not_found() -> GitHubError:
    return GitHubError(404, "Not Found")


def fake_sha(*parts: object) -> str:
    return hashlib.sha1(":".join(map(str, parts)).encode()).hexdigest()


class GitHubState:
    """Repositories, pulls, checks, Actions runs, teams and apps of one GitHub instance."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.api = "http://127.0.0.1"  # set by FakeGitHub once its port is known
        self.web = "http://127.0.0.1"
        self._ids = itertools.count(1_000_001)
        self._order = itertools.count(1)
        self.users: dict[str, User] = {}
        self.repos: dict[str, Repo] = {}
        self.commits: dict[str, dict[str, Commit]] = {}  # repo -> sha -> commit
        self.statuses: dict[str, dict[str, list[Status]]] = {}  # repo -> sha -> statuses
        self.check_runs: dict[str, dict[str, list[CheckRun]]] = {}
        self.pulls: dict[str, dict[int, Pull]] = {}
        self.numbers: dict[str, itertools.count[int]] = {}
        self.runs: dict[int, WorkflowRun] = {}
        self.environments: dict[tuple[str, str], int] = {}
        self.teams: dict[tuple[str, str], Team] = {}
        self.apps: dict[int, App] = {}
        self.installations: dict[int, Installation] = {}
        self.tokens: dict[str, str] = {}  # personal access token -> login
        self.issued: dict[str, IssuedToken] = {}
        self.merges: list[Merge] = []
        self.deployments = itertools.count(1)
        self.log_links: dict[str, tuple[str, int, float]] = {}  # key -> (repo, job id, expiry)
        self.token_ttl = 3600.0  # seconds an installation token lives, as on GitHub
        self.hooks = HookLog()  # webhooks and their delivery logs
        self.merge_queues = MergeQueues()  # tests.fakes.github_graphql

    def next_id(self) -> int:
        return next(self._ids)

    # ---- users, repositories, commits ------------------------------------------------

    def ensure_user(self, login: str, kind: str = "User") -> User:
        with self.lock:
            user = self.users.get(login.lower())
            if user is None:
                kind = "Bot" if login.endswith("[bot]") else kind
                user = self.users[login.lower()] = User(login, self.next_id(), type=kind)
            elif kind == "Organization":
                user.type = kind
            return user

    def add_repo(self, full_name: str, *, owner_type: str = "Organization", **fields: Any) -> Repo:
        owner, _, name = full_name.partition("/")
        if not owner or not name:
            raise ValueError(f"repository must be owner/name, not {full_name!r}")
        with self.lock:
            self.ensure_user(owner, owner_type)
            repo = Repo(owner, name, self.next_id(), **fields)
            self.repos[full_name.lower()] = repo
            self.commits[repo.full_name] = {}
            self.statuses[repo.full_name] = {}
            self.check_runs[repo.full_name] = {}
            self.pulls[repo.full_name] = {}
            self.numbers[repo.full_name] = itertools.count(1)
            self.add_commit(full_name, "Initial commit", branch=repo.default_branch)
            return repo

    def repo(self, full_name: str) -> Repo:
        with self.lock:
            found = self.repos.get(full_name.lower())
            if found is None:
                raise not_found()
            return found

    def add_commit(
        self,
        repo_name: str,
        message: str,
        *,
        sha: str | None = None,
        branch: str | None = None,
        parents: Iterable[str] | None = None,
        author: str = "ana",
    ) -> str:
        with self.lock:
            repo = self.repo(repo_name)
            branch = branch or repo.default_branch
            if parents is None:
                start = repo.branches.get(branch) or repo.branches.get(repo.default_branch)
                parents = [start] if start else []
            order = next(self._order)
            sha = sha or fake_sha(repo.full_name, order, message)
            self.ensure_user(author)
            commit = Commit(sha, message, author, list(parents), iso(), order)
            self.commits[repo.full_name][sha] = commit
            repo.branches[branch] = sha
            return sha

    def resolve(self, repo: Repo, ref: str) -> Commit:
        """A commit by sha, unique sha prefix (7+ hex), branch name or `heads/<branch>`."""
        with self.lock:
            commits = self.commits[repo.full_name]
            ref = ref.removeprefix("refs/").removeprefix("heads/")
            sha = repo.branches.get(ref, ref)
            if sha in commits:
                return commits[sha]
            prefixed = [c for s, c in commits.items() if len(sha) >= 7 and s.startswith(sha)]
            if len(prefixed) == 1:
                return prefixed[0]
            raise GitHubError(422, f"No commit found for SHA: {ref}")

    def ancestors(self, repo: Repo, sha: str) -> set[str]:
        commits, seen, todo = self.commits[repo.full_name], set(), [sha]
        while todo:
            current = todo.pop()
            if current in seen or current not in commits:
                continue
            seen.add(current)
            todo.extend(commits[current].parents)
        return seen

    def compare(self, repo: Repo, base: str, head: str) -> tuple[Commit, Commit, list[Commit], int]:
        """(base, head, commits in head not in base oldest first, how many base is ahead)."""
        with self.lock:
            base_commit, head_commit = self.resolve(repo, base), self.resolve(repo, head)
            in_base = self.ancestors(repo, base_commit.sha)
            in_head = self.ancestors(repo, head_commit.sha)
            commits = self.commits[repo.full_name]
            ahead = sorted((commits[s] for s in in_head - in_base), key=lambda c: c.order)
            return base_commit, head_commit, ahead, len(in_base - in_head)

    def label(self, repo: Repo, name: str, *, create: bool = True) -> Label:
        with self.lock:
            found = repo.labels.get(name.lower())
            if found is None:
                if not create:
                    raise not_found()
                found = repo.labels[name.lower()] = Label(self.next_id(), name)
            return found

    # ---- statuses and checks ---------------------------------------------------------

    def set_status(
        self,
        repo_name: str,
        sha: str,
        context: str,
        state: str,
        *,
        description: str | None = None,
        target_url: str | None = None,
        creator: str = "devexbot",
    ) -> int:
        if state not in ("error", "failure", "pending", "success"):
            raise ValueError(f"status state {state!r}")
        with self.lock:
            repo = self.repo(repo_name)
            now = iso()
            status = Status(
                self.next_id(), context, state, description, target_url, creator, now, now
            )
            self.statuses[repo.full_name].setdefault(sha, []).append(status)
            return status.id

    def latest_statuses(self, repo: Repo, sha: str) -> list[Status]:
        latest: dict[str, Status] = {}
        for status in self.statuses[repo.full_name].get(sha, []):
            latest[status.context] = status
        return sorted(latest.values(), key=lambda s: s.id, reverse=True)

    def combined_state(self, repo: Repo, sha: str) -> str:
        states = {s.state for s in self.latest_statuses(repo, sha)}
        if states & {"error", "failure"}:
            return "failure"
        if not states or "pending" in states:
            return "pending"
        return "success"

    def add_check_run(
        self,
        repo_name: str,
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
        with self.lock:
            repo = self.repo(repo_name)
            check = CheckRun(
                self.next_id(),
                name,
                sha,
                status,
                conclusion if status == "completed" else None,
                iso(),
                iso() if status == "completed" else None,
                details_url,
                app_id,
                app_slug,
                title=title,
                summary=summary,
            )
            self.check_runs[repo.full_name].setdefault(sha, []).append(check)
            return check.id

    def latest_check_runs(self, repo: Repo, sha: str) -> list[CheckRun]:
        latest: dict[str, CheckRun] = {}
        for run in self.check_runs[repo.full_name].get(sha, []):
            latest[run.name] = run
        return sorted(latest.values(), key=lambda r: r.id, reverse=True)

    def context_states(self, repo: Repo, sha: str) -> dict[str, str]:
        """Each status context and check name on `sha`: success, failure or pending."""
        states = {}
        for status in self.latest_statuses(repo, sha):
            states[status.context] = {"error": "failure"}.get(status.state, status.state)
        for run in self.latest_check_runs(repo, sha):
            if run.status != "completed":
                states[run.name] = "pending"
            else:
                states[run.name] = "success" if run.conclusion in GREEN else "failure"
        return states

    def protect_branch(
        self,
        repo_name: str,
        branch: str,
        contexts: Iterable[str],
        *,
        strict: bool = False,
        app_ids: Mapping[str, int | None] | None = None,
    ) -> None:
        with self.lock:
            repo = self.repo(repo_name)
            repo.protection[branch] = Protection(list(contexts), strict, dict(app_ids or {}))

    def unmet_required_checks(self, repo: Repo, branch: str, sha: str) -> list[tuple[str, str]]:
        """(context, "expected" or "failing") for each required check not green on `sha`."""
        protection = repo.protection.get(branch)
        if protection is None:
            return []
        states = self.context_states(repo, sha)
        unmet = []
        for context in protection.contexts:
            state = states.get(context)
            if state != "success":
                unmet.append((context, "failing" if state == "failure" else "expected"))
        return unmet

    # ---- pull requests ---------------------------------------------------------------

    def add_pull(
        self,
        repo_name: str,
        *,
        head: str,
        title: str = "A change",
        base: str | None = None,
        head_sha: str | None = None,
        user: str = "ana",
        number: int | None = None,
        **fields: Any,
    ) -> int:
        with self.lock:
            repo = self.repo(repo_name)
            if head_sha is None:
                head_sha = repo.branches.get(head) or self.add_commit(
                    repo.full_name, title, branch=head, author=user
                )
            elif head_sha not in self.commits[repo.full_name]:
                self.add_commit(repo.full_name, title, sha=head_sha, branch=head, author=user)
            repo.branches.setdefault(head, head_sha)
            number = number if number is not None else next(self.numbers[repo.full_name])
            now = iso()
            self.ensure_user(user)
            pull = Pull(
                number,
                self.next_id(),
                title,
                user,
                head,
                head_sha,
                base or repo.default_branch,
                created_at=now,
                updated_at=now,
                **fields,
            )
            for name in pull.labels:
                self.label(repo, name)
            self.pulls[repo.full_name][number] = pull
            return number

    def pull(self, repo_name: str, number: int) -> tuple[Repo, Pull]:
        with self.lock:
            repo = self.repo(repo_name)
            found = self.pulls[repo.full_name].get(number)
            if found is None:
                raise not_found()
            return repo, found

    def push(self, repo_name: str, branch: str, message: str, *, author: str = "ana") -> str:
        """A new commit on `branch`; open pulls from it move their head to it."""
        with self.lock:
            repo = self.repo(repo_name)
            sha = self.add_commit(repo.full_name, message, branch=branch, author=author)
            for pull in self.pulls[repo.full_name].values():
                if pull.head_ref == branch and pull.state == "open":
                    pull.head_sha, pull.updated_at = sha, iso()
            return sha

    def mergeable_state(self, repo: Repo, pull: Pull) -> str:
        """What GitHub shows: the test's value if it set one, else derived like GitHub does."""
        if pull.mergeable_state is not None:
            return pull.mergeable_state
        if pull.state != "open" or pull.mergeable is None:
            return "unknown"
        if pull.draft:
            return "draft"
        if not pull.mergeable:
            return "dirty"
        if self.unmet_required_checks(repo, pull.base_ref, pull.head_sha):
            return "blocked"
        protection = repo.protection.get(pull.base_ref)
        base_head = repo.branches.get(pull.base_ref)
        if (
            protection is not None
            and protection.strict
            and base_head not in self.ancestors(repo, pull.head_sha)
        ):
            return "behind"
        if "failure" in self.context_states(repo, pull.head_sha).values():
            return "unstable"
        return "clean"

    def merge_pull(
        self,
        repo_name: str,
        number: int,
        *,
        by: str,
        sha: str | None,
        method: str | None,
        title: str | None,
        message: str | None,
    ) -> Merge:
        with self.lock:
            repo, pull = self.pull(repo_name, number)
            method = method or "merge"
            if method not in MERGE_METHODS:
                raise GitHubError(
                    422,
                    f"Invalid request.\n\nFor 'properties/merge_method', \"{method}\" "
                    "is not a member of enum.",
                )
            if pull.merged or pull.state != "open":
                raise GitHubError(405, "Pull Request is not mergeable")
            if sha is not None and sha != pull.head_sha:
                raise GitHubError(409, "Head branch was modified. Review and try the merge again.")
            allowed = {
                "merge": (
                    repo.allow_merge_commit,
                    "Merge commits are not allowed on this repository.",
                ),
                "squash": (
                    repo.allow_squash_merge,
                    "Squash merges are not allowed on this repository.",
                ),
                "rebase": (
                    repo.allow_rebase_merge,
                    "Rebase merges are not allowed on this repository.",
                ),
            }[method]
            if not allowed[0]:
                raise GitHubError(405, allowed[1])
            unmet = self.unmet_required_checks(repo, pull.base_ref, pull.head_sha)
            if unmet and pull.mergeable_state in (None, "blocked"):
                context, how = unmet[0]
                raise GitHubError(405, f'Required status check "{context}" is {how}.')
            state = self.mergeable_state(repo, pull)
            if state == "behind":
                raise GitHubError(405, "Head branch is not up to date with the base branch")
            if state not in MERGEABLE_STATES:
                raise GitHubError(405, "Pull Request is not mergeable")
            if title is None:
                title = (
                    f"Merge pull request #{number} from {repo.owner}/{pull.head_ref}"
                    if method == "merge"
                    else f"{pull.title} (#{number})"
                )
            base_head = repo.branches[pull.base_ref]
            parents = [base_head, pull.head_sha] if method == "merge" else [base_head]
            full_message = title if not message else f"{title}\n\n{message}"
            merged_sha = self.add_commit(
                repo.full_name, full_message, branch=pull.base_ref, parents=parents, author=by
            )
            now = iso()
            pull.state, pull.merged, pull.merged_at, pull.closed_at = "closed", True, now, now
            pull.merged_by, pull.merge_commit_sha, pull.updated_at = by, merged_sha, now
            pull.mergeable = None
            merge = Merge(
                repo.full_name, number, sha, method, title, message, merged_sha, by, time.time()
            )
            self.merges.append(merge)
            return merge

    def add_labels(self, repo_name: str, number: int, names: Iterable[str]) -> list[Label]:
        with self.lock:
            repo = self.repo(repo_name)
            pull = self.pulls[repo.full_name].get(number)
            if pull is None:
                raise not_found()
            for name in names:
                label = self.label(repo, name)
                if label.name not in pull.labels:
                    pull.labels.append(label.name)
            pull.updated_at = iso()
            return [self.label(repo, name) for name in pull.labels]

    def request_reviewers(
        self, repo_name: str, number: int, users: Iterable[str], teams: Iterable[str]
    ) -> Pull:
        with self.lock:
            repo, pull = self.pull(repo_name, number)
            users, teams = list(users), list(teams)
            if pull.user.lower() in (u.lower() for u in users):
                raise GitHubError(422, "Review cannot be requested from pull request author.")
            unknown_users = [u for u in users if self.permission(repo, u) is None]
            unknown_teams = [t for t in teams if (repo.owner.lower(), t.lower()) not in self.teams]
            if unknown_users or unknown_teams:
                raise GitHubError(
                    422,
                    "Reviews may only be requested from collaborators. One or more of the users "
                    f"or teams you specified is not a collaborator of the {repo.full_name} "
                    "repository.",
                )
            for login in users:
                if login not in pull.requested_reviewers:
                    pull.requested_reviewers.append(login)
            for slug in teams:
                if slug not in pull.requested_teams:
                    pull.requested_teams.append(self.team(repo.owner, slug).slug)
            pull.updated_at = iso()
            return pull

    def add_review(
        self, repo_name: str, number: int, user: str, state: str = "APPROVED", body: str = ""
    ) -> int:
        with self.lock:
            _, pull = self.pull(repo_name, number)
            review = Review(self.next_id(), user, state, pull.head_sha, iso(), body)
            pull.reviews.append(review)
            if user in pull.requested_reviewers:
                pull.requested_reviewers.remove(user)
            return review.id

    # ---- people ----------------------------------------------------------------------

    def add_collaborator(self, repo_name: str, login: str, permission: str = "write") -> None:
        if permission not in PERMISSIONS:
            raise ValueError(f"permission must be one of {PERMISSIONS}")
        with self.lock:
            self.ensure_user(login)
            self.repo(repo_name).collaborators[login] = permission

    def add_team(
        self,
        org: str,
        slug: str,
        *,
        members: Iterable[str] = (),
        repos: Mapping[str, str] | Iterable[str] = (),
        name: str | None = None,
    ) -> int:
        with self.lock:
            self.ensure_user(org, "Organization")
            for login in members:
                self.ensure_user(login)
            access = dict(repos) if isinstance(repos, Mapping) else dict.fromkeys(repos, "write")
            if any(p not in PERMISSIONS for p in access.values()):
                raise ValueError(f"permission must be one of {PERMISSIONS}")
            team = Team(self.next_id(), org, slug, name or slug, list(members), access)
            self.teams[(org.lower(), slug.lower())] = team
            return team.id

    def team(self, org: str, slug: str) -> Team:
        with self.lock:
            found = self.teams.get((org.lower(), slug.lower()))
            if found is None:
                raise not_found()
            return found

    def team_by_id(self, team_id: int) -> Team:
        with self.lock:
            for team in self.teams.values():
                if team.id == team_id:
                    return team
            raise not_found()

    def repo_teams(self, repo: Repo) -> list[Team]:
        return [t for t in self.teams.values() if repo.full_name in t.repos]

    def permission(self, repo: Repo, login: str) -> str | None:
        """The strongest permission `login` has on `repo`, directly or through a team."""
        found = [repo.collaborators.get(login)]
        found += [t.repos[repo.full_name] for t in self.repo_teams(repo) if login in t.members]
        ranks = [PERMISSIONS.index(p) for p in found if p is not None]
        return PERMISSIONS[max(ranks)] if ranks else None

    # ---- Actions ---------------------------------------------------------------------

    def add_workflow_run(
        self,
        repo_name: str,
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
    ) -> int:
        with self.lock:
            repo = self.repo(repo_name)
            head_branch = head_branch or repo.default_branch
            head_sha = (
                head_sha or repo.branches.get(head_branch) or repo.branches[repo.default_branch]
            )
            same = [r for r in self.runs.values() if r.repo == repo.full_name and r.path == path]
            now = iso()
            run = WorkflowRun(
                run_id or self.next_id(),
                repo.full_name,
                name,
                head_sha,
                head_branch,
                event,
                status,
                conclusion,
                run_number=len(same) + 1,
                workflow_id=int(fake_sha(repo.full_name, path)[:6], 16),
                path=path,
                actor=actor,
                created_at=now,
                updated_at=now,
                run_started_at=now,
            )
            self.ensure_user(actor)
            self.runs[run.id] = run
            return run.id

    def run(self, repo_name: str, run_id: int) -> tuple[Repo, WorkflowRun]:
        with self.lock:
            repo = self.repo(repo_name)
            found = self.runs.get(run_id)
            if found is None or found.repo != repo.full_name:
                raise not_found()
            return repo, found

    def add_job(
        self,
        repo_name: str,
        run_id: int,
        name: str,
        *,
        status: str = "completed",
        conclusion: str | None = "success",
        log: str = "",
        steps: Iterable[Mapping[str, Any]] = (),
    ) -> int:
        with self.lock:
            _, run = self.run(repo_name, run_id)
            job = Job(
                self.next_id(),
                run.id,
                name,
                status,
                conclusion if status == "completed" else None,
                run.run_attempt,
                log,
                iso(),
                iso() if status == "completed" else None,
                [dict(step) for step in steps],
            )
            run.jobs.append(job)
            return job.id

    def job(self, repo_name: str, job_id: int) -> tuple[Repo, WorkflowRun, Job]:
        with self.lock:
            repo = self.repo(repo_name)
            for run in self.runs.values():
                if run.repo != repo.full_name:
                    continue
                for job in run.jobs:
                    if job.id == job_id:
                        return repo, run, job
            raise not_found()

    def rerun(self, repo_name: str, run_id: int, *, failed_only: bool, by: str) -> Rerun:
        with self.lock:
            _, run = self.run(repo_name, run_id)
            if run.status != "completed":
                raise GitHubError(403, "This workflow is already running")
            latest = run.latest_jobs()
            again = [j for j in latest if not failed_only or j.conclusion not in GREEN]
            if failed_only and not again:
                raise GitHubError(403, "This workflow run has no failed jobs to re-run")
            run.run_attempt += 1
            for job in again:
                run.jobs.append(
                    Job(
                        self.next_id(), run.id, job.name, "queued", None, run.run_attempt, "", iso()
                    )
                )
            for job in latest:
                if job not in again:
                    job.run_attempt = run.run_attempt  # carried into the new attempt
            run.status, run.conclusion, run.updated_at = "queued", None, iso()
            run.run_started_at = run.updated_at
            kind = "failed_jobs" if failed_only else "all"
            rerun = Rerun(kind, run.run_attempt, tuple(j.name for j in again), by, time.time())
            run.reruns.append(rerun)
            return rerun

    def complete_run(self, repo_name: str, run_id: int, conclusion: str = "success") -> None:
        """Finish every unfinished job of the latest attempt with `conclusion`, then the run."""
        with self.lock:
            _, run = self.run(repo_name, run_id)
            for job in run.latest_jobs():
                if job.status != "completed":
                    job.status, job.conclusion, job.completed_at = "completed", conclusion, iso()
            run.status, run.conclusion, run.updated_at = "completed", conclusion, iso()

    def add_pending_deployment(
        self,
        repo_name: str,
        run_id: int,
        environment: str,
        *,
        reviewers: Iterable[str] = (),
        teams: Iterable[str] = (),
        wait_timer: int = 0,
    ) -> int:
        with self.lock:
            repo, run = self.run(repo_name, run_id)
            key = (repo.full_name, environment)
            env_id = self.environments.setdefault(key, self.next_id())
            team_refs = [t if "/" in t else f"{repo.owner}/{t}" for t in teams]
            for ref in team_refs:
                self.team(*ref.split("/", 1))
            pending = PendingDeployment(
                env_id, environment, list(reviewers), team_refs, wait_timer, created_at=iso()
            )
            run.pending.append(pending)
            if run.status != "completed":
                run.status = "waiting"
            return env_id

    def may_review(self, pending: PendingDeployment, login: str) -> bool:
        if login.lower() in (r.lower() for r in pending.reviewers):
            return True
        return any(login in self.team(*ref.split("/", 1)).members for ref in pending.teams)

    def review_deployments(
        self,
        repo_name: str,
        run_id: int,
        environment_ids: list[int],
        state: str,
        comment: str,
        *,
        by: str,
    ) -> tuple[DeploymentReview, list[PendingDeployment]]:
        with self.lock:
            repo, run = self.run(repo_name, run_id)
            if state not in ("approved", "rejected"):
                raise GitHubError(422, f"Invalid request.\n\n{state!r} is not a valid state.")
            waiting = {p.environment_id: p for p in run.pending if p.state == "waiting"}
            chosen = [waiting.get(env_id) for env_id in environment_ids]
            if not environment_ids or None in chosen:
                raise GitHubError(422, "No pending deployment requests to approve or reject")
            reviewed = [p for p in chosen if p is not None]
            refused = [p.environment for p in reviewed if not self.may_review(p, by)]
            if refused:
                raise GitHubError(
                    422,
                    f"{by} is not a required reviewer for environment(s): {', '.join(refused)}",
                )
            for pending in reviewed:
                pending.state = state
            if state == "rejected":
                run.status, run.conclusion = "completed", "failure"
            elif run.status == "waiting" and not any(p.state == "waiting" for p in run.pending):
                run.status = "in_progress"
            run.updated_at = iso()
            review = DeploymentReview(
                repo.full_name,
                run.id,
                tuple(environment_ids),
                tuple(p.environment for p in reviewed),
                state,
                comment,
                by,
                time.time(),
            )
            run.reviews.append(review)
            return review, reviewed

    # ---- apps ------------------------------------------------------------------------

    def add_app(self, app_id: int, public_key: Any, *, slug: str, name: str | None = None) -> None:
        with self.lock:
            self.apps[app_id] = App(app_id, slug, name or slug, public_key)
            self.ensure_user(f"{slug}[bot]")

    def add_installation(
        self,
        installation_id: int,
        app_id: int,
        account: str,
        *,
        repositories: Iterable[str] | None = None,
        permissions: Mapping[str, str] | None = None,
    ) -> None:
        with self.lock:
            if app_id not in self.apps:
                raise KeyError(f"add_app({app_id}, ...) first")
            self.ensure_user(account)
            self.installations[installation_id] = Installation(
                installation_id,
                app_id,
                account,
                None if repositories is None else list(repositories),
                dict(
                    permissions
                    or {"actions": "write", "contents": "write", "pull_requests": "write"}
                ),
            )

    def installation_for(self, repo: Repo) -> Installation:
        with self.lock:
            for installation in self.installations.values():
                if installation.account.lower() != repo.owner.lower():
                    continue
                if installation.repositories is None or repo.full_name in installation.repositories:
                    return installation
            raise not_found()

    def installation_of(self, account: str, app_id: int | None) -> Installation | None:
        """The app's installation on an account (an organisation or a user), if any."""
        with self.lock:
            for installation in self.installations.values():
                if installation.account.lower() == account.lower() \
                        and installation.app_id == app_id:
                    return installation
            return None

    def covers(self, installation_id: int, repo: Repo) -> bool:
        installation = self.installations[installation_id]
        if installation.account.lower() != repo.owner.lower():
            return False
        return installation.repositories is None or repo.full_name in installation.repositories

    def snapshot(self, value: T) -> T:
        """A deep copy taken under the lock, for a test to read at leisure."""
        with self.lock:
            return copy.deepcopy(value)
