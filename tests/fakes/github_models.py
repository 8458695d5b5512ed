"""What the fake GitHub holds, as plain data a test sets up and asserts on (snapshots)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

Json = dict[str, Any]

# The token and identity of the bot when a test does not configure others.
DEFAULT_TOKEN = "ghp_devexbotTestToken0000000000000000000"
DEFAULT_LOGIN = "devexbot"
MERGE_METHODS = ("merge", "squash", "rebase")
PERMISSIONS = ("read", "triage", "write", "maintain", "admin")  # weakest first


@dataclass
class User:
    login: str
    id: int
    name: str | None = None
    email: str | None = None
    type: str = "User"  # "User", "Bot" or "Organization"


@dataclass
class Label:
    id: int
    name: str
    color: str = "ededed"
    description: str | None = None


@dataclass
class Protection:
    """A protected branch's required status checks (`contexts` are status or check names)."""

    contexts: list[str]
    strict: bool = False
    app_ids: dict[str, int | None] = field(default_factory=dict)  # context -> required app


@dataclass
class Repo:
    owner: str
    name: str
    id: int
    default_branch: str = "main"
    allow_merge_commit: bool = True
    allow_squash_merge: bool = True
    allow_rebase_merge: bool = True
    # False: the three allow_* fields are left out of the repository, as GitHub does for
    # tokens that may not see its settings (some fine-grained tokens); merges still obey them.
    merge_settings_visible: bool = True
    private: bool = True
    description: str | None = None
    branches: dict[str, str] = field(default_factory=dict)  # name -> head sha
    protection: dict[str, Protection] = field(default_factory=dict)
    collaborators: dict[str, str] = field(default_factory=dict)  # login -> permission
    labels: dict[str, Label] = field(default_factory=dict)  # lower-case name -> label

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.name}"


@dataclass
class Commit:
    sha: str
    message: str
    author: str  # login
    parents: list[str]
    at: str  # ISO 8601
    order: int  # insertion order, the fake's notion of chronology


@dataclass
class Status:
    id: int
    context: str
    state: str  # error, failure, pending, success
    description: str | None
    target_url: str | None
    creator: str
    created_at: str
    updated_at: str


@dataclass
class CheckRun:
    id: int
    name: str
    head_sha: str
    status: str  # queued, in_progress, completed (waiting, requested, pending)
    conclusion: (
        str | None
    )  # success, failure, neutral, cancelled, skipped, timed_out, action_required
    started_at: str
    completed_at: str | None
    details_url: str | None
    app_id: int
    app_slug: str
    external_id: str = ""
    title: str | None = None
    summary: str | None = None


@dataclass
class Review:
    id: int
    user: str
    state: str  # APPROVED, CHANGES_REQUESTED, COMMENTED, DISMISSED
    commit_id: str
    submitted_at: str
    body: str = ""


@dataclass
class Pull:
    number: int
    id: int
    title: str
    user: str
    head_ref: str
    head_sha: str
    base_ref: str
    body: str | None = None
    state: str = "open"  # open, closed
    draft: bool = False
    mergeable: bool | None = True
    mergeable_state: str | None = None  # None: derived from checks, draft and mergeable
    labels: list[str] = field(default_factory=list)
    requested_reviewers: list[str] = field(default_factory=list)
    requested_teams: list[str] = field(default_factory=list)  # team slugs
    reviews: list[Review] = field(default_factory=list)
    merged: bool = False
    merged_at: str | None = None
    merged_by: str | None = None
    merge_commit_sha: str | None = None
    closed_at: str | None = None
    created_at: str = ""
    updated_at: str = ""


@dataclass(frozen=True)
class Merge:
    """A merge the fake accepted (`sha` is what the client sent, None if it sent none)."""

    repo: str
    number: int
    sha: str | None
    merge_method: str
    commit_title: str
    commit_message: str | None
    merge_commit_sha: str
    by: str
    at: float


@dataclass
class Job:
    id: int
    run_id: int
    name: str
    status: str  # queued, in_progress, completed, waiting
    conclusion: str | None
    run_attempt: int
    log: str = ""
    started_at: str = ""
    completed_at: str | None = None
    steps: list[Json] = field(default_factory=list)


@dataclass
class PendingDeployment:
    environment_id: int
    environment: str
    reviewers: list[str]  # user logins
    teams: list[str]  # "org/slug"
    wait_timer: int = 0
    state: str = "waiting"  # waiting, approved, rejected
    created_at: str = ""


@dataclass(frozen=True)
class Rerun:
    kind: str  # "failed_jobs" or "all"
    attempt: int  # the attempt the re-run started
    jobs: tuple[str, ...]  # names of the jobs run again
    by: str
    at: float


@dataclass(frozen=True)
class DeploymentReview:
    """An approval or rejection of pending deployments, as the fake accepted it."""

    repo: str
    run_id: int
    environment_ids: tuple[int, ...]
    environments: tuple[str, ...]
    state: str  # approved, rejected
    comment: str
    by: str
    at: float


@dataclass
class WorkflowRun:
    id: int
    repo: str
    name: str
    head_sha: str
    head_branch: str
    event: str
    status: str  # queued, in_progress, completed, waiting, requested, pending
    conclusion: str | None
    run_number: int
    workflow_id: int
    path: str
    actor: str
    run_attempt: int = 1
    created_at: str = ""
    updated_at: str = ""
    run_started_at: str = ""
    jobs: list[Job] = field(default_factory=list)  # every attempt's jobs
    pending: list[PendingDeployment] = field(default_factory=list)
    reruns: list[Rerun] = field(default_factory=list)
    reviews: list[DeploymentReview] = field(default_factory=list)

    def latest_jobs(self) -> list[Job]:
        """The jobs of the latest attempt, as `filter=latest` lists them."""
        latest: dict[str, Job] = {}
        for job in self.jobs:
            if job.name not in latest or job.run_attempt >= latest[job.name].run_attempt:
                latest[job.name] = job
        return list(latest.values())


@dataclass
class Team:
    id: int
    org: str
    slug: str
    name: str
    members: list[str] = field(default_factory=list)
    repos: dict[str, str] = field(default_factory=dict)  # full name -> permission
    description: str | None = None


@dataclass
class App:
    id: int
    slug: str
    name: str
    public_key: Any  # a cryptography public key


@dataclass
class Installation:
    id: int
    app_id: int
    account: str
    repositories: list[str] | None  # full names; None: every repository of the account
    permissions: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class IssuedToken:
    """An installation access token the fake issued (`expires_at` is epoch seconds)."""

    token: str
    installation_id: int
    expires_at: float
    permissions: dict[str, str]
    login: str  # who requests with it act as: "<app slug>[bot]"


# ---- the merge queue (tests.fakes.github_graphql) --------------------------------------


@dataclass(frozen=True)
class Enqueued:
    """A pull request the fake's merge queue took, with what the mutation sent."""

    repo: str
    number: int
    node_id: str  # the `pullRequestId` sent
    expected_head_oid: str | None  # the `expectedHeadOid` sent, None if none
    queue_sha: str  # the queue's commit, on gh-readonly-queue/<base>/pr-<n>-<base sha>
    position: int
    by: str
    at: float


@dataclass
class MergeQueues:
    """Which branches take pull requests only through the queue, what the queue took, every
    `enqueuePullRequest` received, and the webhook deliveries GitHub sends about it."""

    required: set[tuple[str, str]] = field(default_factory=set)  # (repo, branch)
    entries: list[Enqueued] = field(default_factory=list)
    mutations: list[Json] = field(default_factory=list)  # the variables each one resolved to
    refusals: list[Json] = field(default_factory=list)  # scripted GraphQL errors, next first
    deliveries: list[tuple[str, Json]] = field(default_factory=list)  # (event, payload)
    groups: dict[tuple[str, int], Json] = field(default_factory=dict)  # each entry's group
