"""The demo's story, timed: ana pushes feature/login and opens PR #12; GitHub Actions and
Jenkins build it (a test fails, the re-run passes); ben approves and merges; main is built
and deployed to test by GitHub Actions once carla (the product owner) approves, then to
production by a release script. In between, octo-api's main breaks on Jenkins.

Three steps are a person's: re-running the failed test, merging, approving test. At each
the story waits for the visitor (a `Gate`): whoever clicks the card's button acts, through
the bot, on the demo's GitHub; when nobody does, the story's own person acts.

Builds report realistic durations although the story runs faster than real builds do.
A `Story(start, speed)` has the deliveries with their offsets (seconds from the start, at
speed 1); their payloads are built when sent, with event times at `start` plus the scaled
offset plus however long the story waited at the gates before.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from devexbot.demo import payloads as pl

ENVIRONMENTS = ["test", "production"]
REPOS = ["octo-org/octo-app", "octo-org/octo-api"]


def _sha(seed: str) -> str:
    return hashlib.sha1(seed.encode()).hexdigest()  # noqa: S324 - a made-up commit id


FEATURE = _sha("devexbot demo: add login page")
MERGE = _sha("devexbot demo: merge pull request 12")
API_COMMIT = _sha("devexbot demo: bump httpx")
MAIN_BEFORE = _sha("devexbot demo: main before")
PR = 12
PR_TITLE = "Add login page"
CI_RUN, MAIN_RUN, DEPLOY_RUN = 30434000, 30434200, 30434100
DEPLOYMENT, DEPLOY_JOB = 145990001, 399500001
TEST_ENVIRONMENT_ID = 1185634201  # GitHub's id of the repository's `test` environment


@dataclass(frozen=True)
class Act:
    """How a person's step went: who did it on GitHub, and what they decided."""

    by: str  # a GitHub login: the bot's own account when a button did it
    decision: str = "approved"  # approve: approved | rejected
    comment: str = ""


@dataclass(frozen=True)
class Gate:
    """A step a person takes: the story waits there for the visitor's click."""

    offset: float
    name: str  # retry | merge | approve
    ask: str  # what the visitor is asked to do
    default: Act  # what the story's own person does when nobody clicks


@dataclass(frozen=True)
class Step:
    offset: float  # seconds after the start, at speed 1
    sender: str  # "github:<event>" | "jenkins" | "deploy"
    label: str  # what the demo prints
    build: Callable[[], dict[str, Any]]
    needs: tuple[str, str] | None = None  # (gate, decision): sent only when it went so

    @property
    def payload(self) -> dict[str, Any]:
        return self.build()


GATES = [
    Gate(28.0, "retry", "click Retry CI on the octo-app feature/login card", Act("ana")),
    Gate(45.0, "merge", "click Merge on PR #12, the octo-app feature/login card", Act("ben")),
    Gate(72.0, "approve", "click Approve (or Reject) for test on the octo-app main card",
         Act("carla", comment="Ready for QA.")),
]


class Story:
    """The story's gates and steps; what happened at the gates; the times that follow."""

    def __init__(self, start: datetime, speed: float = 1.0) -> None:
        self.start, self.speed = start, speed
        self.shifts: dict[float, float] = {}  # gate offset: seconds the story moved by there
        self.acts: dict[str, Act] = {}
        self.gates = list(GATES)
        self.steps = _steps(self)

    def seconds(self, offset: float) -> float:
        """Seconds from the start to `offset`, at the story's speed, with the gates' waits."""
        return offset / self.speed + sum(s for at, s in self.shifts.items() if at <= offset)

    def t(self, offset: float) -> datetime:
        return self.start + timedelta(seconds=self.seconds(offset))

    def act(self, gate: str) -> Act:
        """What happened at the gate (its default until then)."""
        return self.acts.get(gate) or next(g.default for g in self.gates if g.name == gate)

    def wanted(self, step: Step) -> bool:
        return step.needs is None or self.act(step.needs[0]).decision == step.needs[1]

    def timeline(self) -> list[Step | Gate]:
        """Gates and steps in order; a gate before the steps at its offset."""
        items: list[Step | Gate] = [*self.gates, *self.steps]
        return sorted(items, key=lambda i: (i.offset, isinstance(i, Step)))


def _steps(story: Story) -> list[Step]:
    """Every delivery of the story, in the order they are sent."""
    t = story.t
    out: list[Step] = []

    def at(offset: float, sender: str, label: str,
           build: Callable[[datetime], dict[str, Any]], needs: tuple[str, str] | None = None
           ) -> None:
        out.append(Step(offset, sender, label, lambda: build(t(offset)), needs))

    # ana's feature branch
    at(0.5, "github:push", "ana pushes feature/login", lambda now: pl.push(
        FEATURE, branch="feature/login", before=MAIN_BEFORE, author="ana", at=now,
        message="Add login page\n\nSession cookie, and a lockout after five failed attempts."))
    at(1.5, "github:pull_request", "ana opens PR #12", lambda now: pl.pull_request(
        "opened", PR, title=PR_TITLE, head_sha=FEATURE, branch="feature/login", author="ana",
        reviewers=["ben"], at=now, body_text="Closes OCTO-231."))
    _ci(at, t, FEATURE, "feature/login", run_id=CI_RUN, run_number=41, begin=2.5,
        failing_test=True)
    at(3.0, "jenkins", "Jenkins queues octo-app feature/login #7", lambda now: pl.jenkins(
        FEATURE, job="octo-app", branch="feature/login", number=7, phase="QUEUED", result=None,
        started=now))
    at(5.0, "jenkins", "Jenkins starts #7", lambda now: pl.jenkins(
        FEATURE, job="octo-app", branch="feature/login", number=7, phase="STARTED",
        result=None, started=t(3.0)))
    at(22.0, "jenkins", "Jenkins #7 passes", lambda now: pl.jenkins(
        FEATURE, job="octo-app", branch="feature/login", number=7, phase="COMPLETED",
        result="SUCCESS", started=t(3.0), duration_s=192,
        tests={"total": 124, "failed": 0, "passed": 122, "skipped": 2, "failed_tests": []}))

    # octo-api's main breaks meanwhile
    at(6.0, "github:push", "ben pushes octo-api main", lambda now: pl.push(
        API_COMMIT, branch="main", before=_sha("octo-api before"), author="ben", at=now,
        repo="octo-org/octo-api", message="Bump httpx to 0.28"))
    at(6.5, "jenkins", "Jenkins starts octo-api main #88", lambda now: pl.jenkins(
        API_COMMIT, job="octo-api", branch="main", number=88, phase="STARTED", result=None,
        started=now, culprit="ben", repo="octo-org/octo-api"))
    at(24.0, "jenkins", "octo-api main #88 is unstable: 3 tests fail", lambda now: pl.jenkins(
        API_COMMIT, job="octo-api", branch="main", number=88, phase="COMPLETED",
        result="UNSTABLE", started=t(6.5), duration_s=287, culprit="ben",
        repo="octo-org/octo-api",
        tests={"total": 310, "failed": 3, "passed": 305, "skipped": 2,
               "failed_tests": ["tests.test_client.test_retry_on_502",
                                "tests.test_client.test_timeout_is_honoured",
                                "tests.test_auth.test_token_refresh"]}))

    # The failed test is re-run, and passes
    at(28.0, "github:workflow_run", "CI: re-run of failed jobs", lambda now: pl.workflow_run(
        FEATURE, branch="feature/login", name="CI", workflow_id=161335, run_id=CI_RUN,
        run_number=41, attempt=2, status="queued", conclusion=None, title=PR_TITLE,
        started=now, at=now, event="pull_request", actor=story.act("retry").by))
    at(29.0, "github:workflow_job", "CI / test, attempt 2", lambda now: pl.workflow_job(
        FEATURE, branch="feature/login", workflow="CI", job="test", job_id=399600102,
        run_id=CI_RUN, attempt=2, status="in_progress", conclusion=None, started=now, at=now))
    at(37.0, "github:workflow_job", "CI / test passes", lambda now: pl.workflow_job(
        FEATURE, branch="feature/login", workflow="CI", job="test", job_id=399600102,
        run_id=CI_RUN, attempt=2, status="completed", conclusion="success", started=t(29.0),
        at=now))
    at(38.0, "github:workflow_run", "CI passes", lambda now: pl.workflow_run(
        FEATURE, branch="feature/login", name="CI", workflow_id=161335, run_id=CI_RUN,
        run_number=41, attempt=2, status="completed", conclusion="success", title=PR_TITLE,
        started=t(28.0), at=now, event="pull_request"))
    at(41.0, "github:pull_request_review", "ben approves PR #12", lambda now: pl.review(
        PR, head_sha=FEATURE, branch="feature/login", title=PR_TITLE, reviewer="ben",
        state="approved", text="Looks good, ship it.", at=now))

    # Merged: main is built and deployed
    at(45.0, "github:pull_request", "PR #12 is merged", lambda now: pl.pull_request(
        "closed", PR, title=PR_TITLE, head_sha=FEATURE, branch="feature/login", author="ana",
        reviewers=[], at=now, merged_by=story.act("merge").by, merge_sha=MERGE))
    at(45.5, "github:push", "main moves to the merge commit", lambda now: pl.push(
        MERGE, branch="main", before=MAIN_BEFORE, author=story.act("merge").by, at=now,
        message=f"Merge pull request #{PR} from octo-org/feature/login\n\n{PR_TITLE}"))
    _ci(at, t, MERGE, "main", run_id=MAIN_RUN, run_number=42, begin=46.0, failing_test=False)
    at(47.0, "jenkins", "Jenkins starts octo-app main #31", lambda now: pl.jenkins(
        MERGE, job="octo-app", branch="main", number=31, phase="STARTED", result=None,
        started=now, culprit="ben"))
    at(57.0, "jenkins", "Jenkins main #31 passes", lambda now: pl.jenkins(
        MERGE, job="octo-app", branch="main", number=31, phase="COMPLETED", result="SUCCESS",
        started=t(47.0), duration_s=171, culprit="ben",
        tests={"total": 124, "failed": 0, "passed": 122, "skipped": 2, "failed_tests": []}))
    # test is deployed by GitHub Actions once carla, the product owner, approves
    at(58.0, "github:deployment", "GitHub Actions: deploy to test",
       lambda now: pl.deployment(MERGE, environment="test", deployment_id=DEPLOYMENT, at=now))
    at(58.5, "github:workflow_job", "test waits for approval", lambda now: pl.waiting_job(
        MERGE, job="deploy-test", job_id=DEPLOY_JOB, run_id=DEPLOY_RUN, environment="test",
        deployment_id=DEPLOYMENT, at=now))
    at(59.0, "github:deployment_review", "carla is asked to approve test", lambda now:
       pl.deployment_review(MERGE, "requested", environment="test", run_id=DEPLOY_RUN,
                            job_id=DEPLOY_JOB, reviewer="carla", since=t(58.5), at=now))
    approved, rejected = ("approve", "approved"), ("approve", "rejected")

    def review(decision: str) -> Callable[[datetime], dict[str, Any]]:
        return lambda now: pl.deployment_review(
            MERGE, decision, environment="test", run_id=DEPLOY_RUN, job_id=DEPLOY_JOB,
            reviewer="carla", since=t(58.5), at=now, approver=story.act("approve").by,
            comment=story.act("approve").comment)

    for needs in (approved, rejected):
        at(72.0, "github:deployment_review", f"test is {needs[1]}", review(needs[1]), needs)
    log_url = f"{pl.WEB}/actions/runs/{DEPLOY_RUN}/job/{DEPLOY_JOB}"

    def test_env(state: str) -> Callable[[datetime], dict[str, Any]]:
        done = state == "success"
        words = {"success": "Deployed by GitHub Actions",
                 "failure": "Rejected: the deployment was not approved"}
        return lambda now: pl.deployment_status(
            MERGE, environment="test", deployment_id=DEPLOYMENT, state=state,
            log_url=log_url, created=t(58.0), at=now,
            environment_url="https://test.octo-app.example.com" if done else "",
            description=words.get(state, ""))

    def deploy_job(status: str, started: float) -> Callable[[datetime], dict[str, Any]]:
        done = status == "completed"
        return lambda now: pl.workflow_job(
            MERGE, branch="main", workflow="Deploy", job="deploy-test", job_id=DEPLOY_JOB,
            run_id=DEPLOY_RUN, attempt=1, status=status, conclusion="success" if done else None,
            started=t(started), at=now)

    def deploy_run(conclusion: str) -> Callable[[datetime], dict[str, Any]]:
        return lambda now: pl.workflow_run(
            MERGE, branch="main", name="Deploy", workflow_id=161400, run_id=DEPLOY_RUN,
            run_number=12, attempt=1, status="completed", conclusion=conclusion,
            title=f"Merge pull request #{PR}", started=t(58.0), at=now)

    at(73.0, "github:workflow_job", "Deploy / deploy-test runs", deploy_job("in_progress", 73.0),
       approved)
    at(73.5, "github:deployment_status", "test: in_progress", test_env("in_progress"), approved)
    at(79.0, "github:deployment_status", "test: success", test_env("success"), approved)
    at(79.5, "github:workflow_job", "Deploy / deploy-test passes", deploy_job("completed", 73.0),
       approved)
    at(80.0, "github:workflow_run", "Deploy passes", deploy_run("success"), approved)
    # Rejected: GitHub fails the waiting job, and its run; nothing reaches test.
    at(72.5, "github:deployment_status", "test: failure", test_env("failure"), rejected)
    at(72.5, "github:workflow_job", "Deploy / deploy-test fails", lambda now: pl.workflow_job(
        MERGE, branch="main", workflow="Deploy", job="deploy-test", job_id=DEPLOY_JOB,
        run_id=DEPLOY_RUN, attempt=1, status="completed", conclusion="failure",
        started=t(58.5), at=now), rejected)
    at(73.0, "github:workflow_run", "Deploy fails", deploy_run("failure"), rejected)

    # production, by the release script
    def production(status: str, words: str) -> Callable[[datetime], dict[str, Any]]:
        return lambda now: pl.deploy(
            MERGE, environment="production", status=status, url="https://octo-app.example.com",
            deployment_id="release-2026.11.3", description=f"{words} {MERGE[:7]} to production",
            at=now)

    at(83.0, "deploy", "release script: production in_progress",
       production("in_progress", "Releasing"), approved)
    at(90.0, "deploy", "release script: production success", production("success", "Released"),
       approved)
    return sorted(out, key=lambda s: s.offset)


def _ci(at: Callable[..., None], t: Callable[[float], datetime], sha: str, branch: str, *,
        run_id: int, run_number: int, begin: float, failing_test: bool) -> None:
    """One CI workflow run with build, lint and test jobs."""
    event = "pull_request" if branch != "main" else "push"
    title = PR_TITLE if branch != "main" else f"Merge pull request #{PR}"
    jobs = {"build": (run_id * 10 + 1, 12.0), "lint": (run_id * 10 + 2, 10.0),
            "test": (run_id * 10 + 3, 16.0)}
    if branch == "main":
        jobs = {name: (job_id, length / 2) for name, (job_id, length) in jobs.items()}

    def run(offset: float, status: str, conclusion: str | None, label: str) -> None:
        at(offset, "github:workflow_run", label, lambda now: pl.workflow_run(
            sha, branch=branch, name="CI", workflow_id=161335, run_id=run_id,
            run_number=run_number, attempt=1, status=status, conclusion=conclusion,
            title=title, started=t(begin), at=now, event=event))

    run(begin, "queued", None, f"CI queued on {branch}")
    run(begin + 1.5, "in_progress", None, f"CI running on {branch}")
    last = begin
    for name, (job_id, length) in jobs.items():
        started = begin + 2.0
        fails = failing_test and name == "test"
        at(started, "github:workflow_job", f"CI / {name} starts", lambda now, name=name,
           job_id=job_id: pl.workflow_job(
               sha, branch=branch, workflow="CI", job=name, job_id=job_id, run_id=run_id,
               attempt=1, status="in_progress", conclusion=None, started=now, at=now))
        at(started + length, "github:workflow_job",
           f"CI / {name} {'fails' if fails else 'passes'}",
           lambda now, name=name, job_id=job_id, fails=fails, started=started: pl.workflow_job(
               sha, branch=branch, workflow="CI", job=name, job_id=job_id, run_id=run_id,
               attempt=1, status="completed", conclusion="failure" if fails else "success",
               started=t(started), at=now, failed_step="Run tests" if fails else None))
        last = max(last, started + length)
    conclusion = "failure" if failing_test else "success"
    run(last + 1.0, "completed", conclusion, f"CI {'fails' if failing_test else 'passes'}")
