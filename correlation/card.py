"""CommitCard: what one commit looks like after all its events are folded together."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from correlation.status import Status


def iso(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z") if moment else None


@dataclass(frozen=True)
class Author:
    login: str | None
    name: str | None
    email: str | None = None


@dataclass(frozen=True)
class Review:
    """One reviewer's latest decision on a pull request (`approved`, `changes_requested`,
    `dismissed`), and when it was submitted."""

    login: str
    state: str
    at: datetime


@dataclass(frozen=True)
class PullRequest:
    number: int
    title: str
    state: str  # open | closed | merged
    url: str | None
    review: str | None  # approved | changes_requested | pending | None
    head_sha: str | None = None
    draft: bool = False
    author: str | None = None
    base: str | None = None
    labels: tuple[str, ...] = ()
    at: datetime | None = None  # when GitHub last said so: which of two heads is newer
    reviews: tuple[Review, ...] = ()  # each reviewer's latest, oldest first
    requested_reviewers: tuple[str, ...] = ()  # GitHub logins asked for a review


@dataclass(frozen=True)
class CheckLine:
    """A check, commit status, workflow, job or build, as one line of the card.

    `kind` is `check` or `status` (GitHub), `workflow` or `job` (GitHub Actions), `build`
    (Jenkins). `details` holds what the source knows besides, among it:

    - workflow and job: `workflow` (the workflow's name: jobs group under the workflow line
      with the same one), `run_id`, `run_attempt`; a job also has `job` (its own name).
    - build: `job` (the Jenkins full name, for Retry), `job_url`, `build_number`, `result`
      (`UNSTABLE`, `ABORTED`, ...), `duration_ms`, `parameters`, `tests` (`total`, `failed`,
      `passed`, `skipped`, `failed_tests`: the first names), `branch`.
    """

    source: str
    name: str
    status: Status
    url: str | None
    updated_at: datetime
    kind: str = "check"
    summary: str | None = None
    details: dict[str, Any] = field(default_factory=dict)
    slot: tuple[str, str, str] = ("", "", "")  # the slot it was read from


@dataclass(frozen=True)
class Approval:
    """A human decision a deployment waits for, or got; `reviewers` may decide it.

    `by` holds whoever made the decision `state` names: GitHub logins, or Slack user ids
    for decisions taken from the card. `request` names the bot's approval request the
    decision closed (None for GitHub's own decisions)."""

    state: str  # waiting | approved | rejected | expired
    by: tuple[str, ...] = ()
    reviewers: tuple[str, ...] = ()
    comment: str | None = None
    run_id: int | None = None  # the GitHub Actions run whose deployment waits
    request: str | None = None


@dataclass(frozen=True)
class DeploymentLine:
    environment: str
    status: Status
    url: str | None
    updated_at: datetime
    source: str = "github"
    approval: Approval | None = None
    description: str | None = None
    deployment_id: str | None = None
    creator: str | None = None  # the GitHub login that created the deployment, if GitHub's


@dataclass(frozen=True)
class MergeQueue:
    """Where a pull request stands in the merge queue: `state` is `queued`, `merged`,
    `dequeued` or `invalidated` (an entry ahead of it left, so it is tested again);
    `since` is when it entered, `at` when the news came."""

    state: str
    at: datetime
    since: datetime | None = None
    base: str | None = None
    queue_sha: str | None = None


@dataclass(frozen=True)
class Stamp:
    """What someone did from the card ("Merged by @ana 14:02"), as trusted mrkdwn."""

    action: str
    text: str
    by: str | None
    at: datetime


@dataclass(frozen=True)
class Rerun:
    """Someone re-ran a check from the card (Retry): the check's slot, the run it re-ran
    (an Actions run's id, whose jobs share it), who clicked (a Slack user id), and when."""

    slot: tuple[str, str, str]
    by: str | None
    at: datetime
    run_id: int | None = None


@dataclass(frozen=True)
class CommitCard:
    repo: str
    sha: str
    branch: str | None = None
    message: str | None = None
    author: Author | None = None
    url: str | None = None
    pull_request: PullRequest | None = None
    checks: tuple[CheckLine, ...] = ()
    deployments: tuple[DeploymentLine, ...] = ()
    tickets: tuple[dict[str, Any], ...] = ()
    overall: Status = Status.NEUTRAL
    superseded_by: str | None = None
    updated_at: datetime | None = None
    stamps: tuple[Stamp, ...] = ()
    merge_queue: MergeQueue | None = None
    reruns: tuple[Rerun, ...] = ()  # the latest Retry of each check, whoever clicked it

    @property
    def short_sha(self) -> str:
        return self.sha[:7]

    def to_json(self) -> dict[str, Any]:
        """The card JSON of DESIGN.md, less `slack`, which the application adds."""
        pr = self.pull_request
        return {
            "repo": self.repo,
            "sha": self.sha,
            "short_sha": self.short_sha,
            "url": self.url,
            "branch": self.branch,
            "message": self.message,
            "author": (
                {"login": self.author.login, "name": self.author.name} if self.author else None
            ),
            "pull_request": (
                {
                    "number": pr.number,
                    "title": pr.title,
                    "state": pr.state,
                    "url": pr.url,
                    "review": pr.review,
                    "draft": pr.draft,
                    "author": pr.author,
                    "head_sha": pr.head_sha,
                    "labels": list(pr.labels),
                    # Each reviewer's latest decision (a new one is news for its author).
                    "reviews": [{"login": r.login, "state": r.state, "at": iso(r.at)}
                                for r in pr.reviews],
                    "requested_reviewers": list(pr.requested_reviewers),
                }
                if pr
                else None
            ),
            "checks": [
                {
                    "source": c.source,
                    "name": c.name,
                    "status": c.status.value,
                    "url": c.url,
                    "updated_at": iso(c.updated_at),
                    "kind": c.kind,
                    "summary": c.summary,
                    "details": dict(c.details),
                }
                for c in self.checks
            ],
            "deployments": [
                {
                    "environment": d.environment,
                    "status": d.status.value,
                    "url": d.url,
                    "updated_at": iso(d.updated_at),
                    "source": d.source,
                    "description": d.description,
                    "deployment_id": d.deployment_id,
                    "approval": (
                        {
                            "state": d.approval.state,
                            "by": list(d.approval.by),
                            "reviewers": list(d.approval.reviewers),
                            "comment": d.approval.comment,
                            "run_id": d.approval.run_id,
                        }
                        if d.approval
                        else None
                    ),
                }
                for d in self.deployments
            ],
            "tickets": [dict(t) for t in self.tickets],
            "overall": self.overall.value,
            "superseded_by": self.superseded_by,
            "stamps": [
                {"action": st.action, "text": st.text, "by": st.by, "at": iso(st.at)}
                for st in self.stamps
            ],
            "merge_queue": (
                {"state": self.merge_queue.state, "since": iso(self.merge_queue.since),
                 "at": iso(self.merge_queue.at), "base": self.merge_queue.base,
                 "queue_sha": self.merge_queue.queue_sha}
                if self.merge_queue
                else None
            ),
            "updated_at": iso(self.updated_at),
        }
