"""The CI-and-deploy issue's reference stream: PR #12's merge commit on main is built by
Jenkins and by GitHub Actions (CI fails, its re-run passes), deployed to test by a deploy
script, to staging by Argo CD, and to production by a GitHub Actions environment that
requires ben's approval. Every delivery is (sender, payload[, delivery id]).

`merge_stream(until=...)` cuts the stream at a moment, to see the card as it was then.
"""

from __future__ import annotations

import copy
from datetime import datetime
from typing import Any

from tests.deploy_sender import load_deploy
from tests.github_sender import load_fixture
from tests.jenkins_sender import load_jenkins

REPO = "octo-org/octo-app"
MERGE = "9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b"
PR_HEAD = "4f7e1c0d8b2a9e6f3c5d7a1b0e9f8c2d4a6b8e0f"
ACTIONS = f"https://github.com/{REPO}/actions/runs"
JENKINS = "https://jenkins.octo-app.example.com/"
CONFIG = """
environments: [test, staging, production]
scm_repos:
  "https://git.example.com/team/": "octo-org/"
"""
ENVIRONMENTS = ("test", "staging", "production")
CI_RUN, DEPLOY_RUN = 30434000, 30434100
CI_WORKFLOW, DEPLOY_WORKFLOW = 161335, 161400
PROD_DEPLOYMENT = 145990001

Delivery = tuple[str, dict[str, Any]]  # ("github:<event>" | "jenkins" | "deploy", payload)


def t(hms: str) -> str:
    return f"2026-11-20T{hms}Z"


def ms(hms: str) -> int:
    return int(datetime.fromisoformat(f"2026-11-20T{hms}+00:00").timestamp() * 1000)


def _push() -> dict[str, Any]:
    push = copy.deepcopy(load_fixture("push"))
    push.update(ref="refs/heads/main", before="0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c",
                after=MERGE)
    push["repository"]["pushed_at"] = 1795170601  # 10:30:01
    head = push["head_commit"]
    head.update(id=MERGE, timestamp="2026-11-20T10:30:00Z",
                message="Merge pull request #12 from octo-org/feature/login\n\nAdd login page",
                url=f"https://github.com/{REPO}/commit/{MERGE}")
    head["author"] = head["committer"] = {"name": "Ana Lima", "email": "ana@example.com",
                                          "username": "ana"}
    return push


def _workflow_run(workflow: str, workflow_id: int, run_id: int, attempt: int, status: str,
                  conclusion: str | None, updated: str, started: str) -> dict[str, Any]:
    payload = copy.deepcopy(load_fixture("workflow_run.completed"))
    payload["action"] = {"queued": "requested", "in_progress": "in_progress"}.get(status,
                                                                                  "completed")
    run = payload["workflow_run"]
    run.update(id=run_id, name=workflow, workflow_id=workflow_id, run_attempt=attempt,
               status=status, conclusion=conclusion, updated_at=t(updated),
               run_started_at=t(started), head_sha=MERGE, head_branch="main", event="push",
               pull_requests=[], html_url=f"{ACTIONS}/{run_id}",
               run_number=41 if workflow == "CI" else 9,
               path=f".github/workflows/{workflow.lower()}.yml")
    run["head_commit"] = _push()["head_commit"]
    payload["workflow"].update(id=workflow_id, name=workflow)
    return payload


def _workflow_job(workflow: str, job: str, job_id: int, run_id: int, attempt: int,
                  status: str, conclusion: str | None, started: str,
                  completed: str | None = None, failed_step: str | None = None
                  ) -> dict[str, Any]:
    payload = copy.deepcopy(load_fixture("workflow_job.completed"))
    payload["action"] = status
    wf_job = payload["workflow_job"]
    steps = [{"name": "Run tests" if failed_step else "Build", "status": "completed",
              "conclusion": "failure" if failed_step else "success", "number": 1,
              "started_at": t(started), "completed_at": t(completed or started)}]
    wf_job.update(id=job_id, run_id=run_id, run_attempt=attempt, workflow_name=workflow,
                  name=job, head_sha=MERGE, head_branch="main", status=status,
                  conclusion=conclusion, created_at=t(started), started_at=t(started),
                  completed_at=t(completed) if completed else None,
                  html_url=f"{ACTIONS}/{run_id}/job/{job_id}",
                  check_run_url=f"https://api.github.com/repos/{REPO}/check-runs/{job_id}",
                  run_url=f"https://api.github.com/repos/{REPO}/actions/runs/{run_id}",
                  steps=steps if status == "completed" else [])
    return payload


def _waiting_deploy_job() -> dict[str, Any]:
    payload = copy.deepcopy(load_fixture("workflow_job.waiting"))
    job = payload["workflow_job"]
    job.update(id=399500001, run_id=DEPLOY_RUN, run_attempt=1, workflow_name="Deploy",
               name="deploy-production", head_sha=MERGE, head_branch="main",
               created_at=t("10:40:00"), started_at=t("10:40:00"),
               html_url=f"{ACTIONS}/{DEPLOY_RUN}/job/399500001",
               check_run_url=f"https://api.github.com/repos/{REPO}/check-runs/399500001")
    payload["deployment"].update(id=PROD_DEPLOYMENT, sha=MERGE, ref="main",
                                 created_at=t("10:40:00"), updated_at=t("10:40:00"))
    return payload


def _deployment() -> dict[str, Any]:
    payload = copy.deepcopy(load_fixture("deployment.created"))
    payload["deployment"].update(id=PROD_DEPLOYMENT, sha=MERGE, ref="main",
                                 environment="production", original_environment="production",
                                 description=None, created_at=t("10:40:00"),
                                 updated_at=t("10:40:00"))
    return payload


def _deployment_status(state: str, at: str) -> dict[str, Any]:
    payload = copy.deepcopy(load_fixture("deployment_status.success"))
    payload["deployment"].update(id=PROD_DEPLOYMENT, sha=MERGE, ref="main",
                                 environment="production", description=None,
                                 created_at=t("10:40:00"), updated_at=t(at))
    payload["deployment_status"].update(
        state=state, environment="production", created_at=t(at), updated_at=t(at),
        environment_url="https://octo-app.example.com" if state == "success" else "",
        target_url=f"{ACTIONS}/{DEPLOY_RUN}/job/399500001",
        log_url=f"{ACTIONS}/{DEPLOY_RUN}/job/399500001",
        description="Deployed by GitHub Actions" if state == "success" else "")
    return payload


def _review(action: str, at: str) -> dict[str, Any]:
    payload = copy.deepcopy(load_fixture(f"deployment_review.{action}"))
    payload["workflow_run"].update(id=DEPLOY_RUN, head_sha=MERGE, head_branch="main",
                                   name="Deploy", updated_at=t(at))
    payload["since"] = t("10:40:00")
    for key in ("workflow_job_run", "workflow_job_runs"):
        runs = payload.get(key)
        for job in runs if isinstance(runs, list) else [runs] if runs else []:
            job.update(id=399500001, created_at=t("10:40:00"), updated_at=t("10:40:00"),
                       html_url=f"{ACTIONS}/{DEPLOY_RUN}/job/399500001")
    return payload


def _status(state: str, at: str) -> dict[str, Any]:
    """What Jenkins' GitHub plugin reports for octo-app/main #31: the same build again."""
    payload = copy.deepcopy(load_fixture(f"status.{state}"))
    payload.update(sha=MERGE, context="continuous-integration/jenkins/branch", state=state,
                   target_url=f"{JENKINS}job/octo-app/job/main/31/display/redirect",
                   description="This commit looks good" if state == "success" else
                   "This commit is being built", created_at=t(at), updated_at=t(at),
                   branches=[{"name": "main", "commit": {"sha": MERGE}, "protected": True}])
    payload["commit"]["sha"] = MERGE
    return payload


def _jenkins_main(fixture: str, timestamp: int, duration: int = 0) -> dict[str, Any]:
    payload = copy.deepcopy(load_jenkins(fixture))
    payload.update(name="main", display_name="main", url="job/octo-app/job/main/")
    build = payload["build"]
    build.update(number=31, queue_id=931, timestamp=timestamp, duration=duration,
                 url="job/octo-app/job/main/31/",
                 full_url=f"{JENKINS}job/octo-app/job/main/31/", artifacts={})
    if build.get("scm", {}).get("commit"):
        build["scm"].update(branch="main", commit=MERGE,
                            changes=["src/octo_app/login.py"], culprits=["ana"])
    if "test_summary" in build:
        build["test_summary"] = {"total": 124, "failed": 0, "passed": 122, "skipped": 2,
                                 "failed_tests": []}
    return payload


def _jenkins_integration(number: int, phase: str, result: str | None, timestamp: int,
                         duration: int = 0, failed: int = 0) -> dict[str, Any]:
    payload = copy.deepcopy(load_jenkins("freestyle.completed.ssh"))
    build = payload["build"]
    build.update(number=number, queue_id=1000 + number, phase=phase, timestamp=timestamp,
                 duration=duration, url=f"job/octo-app-integration/{number}/",
                 full_url=f"{JENKINS}job/octo-app-integration/{number}/")
    build["scm"].update(commit=MERGE, branch="origin/main")
    build["parameters"] = {"TARGET_ENV": "test", "BROWSER": "firefox", "GIT_REF": "main"}
    if result:
        build["status"] = result
        build["test_summary"] = {
            "total": 48, "failed": failed, "passed": 48 - failed, "skipped": 0,
            "failed_tests": ["integration.test_login.test_sso_redirect",
                             "integration.test_login.test_logout"][:failed]}
    else:
        build.pop("status", None)
        build.pop("test_summary", None)
    return payload


def _deploy(fixture: str, **changes: Any) -> dict[str, Any]:
    return load_deploy(fixture) | {"sha": MERGE} | changes


def merge_stream(until: str = "23:59:59") -> list[Delivery]:
    """Every delivery of the scenario that happened by `until`, in the order sent."""
    timed: list[tuple[str, str, dict[str, Any]]] = [
        ("10:30:00", "github:pull_request", load_fixture("pull_request.closed")),
        ("10:30:01", "github:push", _push()),
        ("10:30:02", "jenkins", _jenkins_main("queued", ms("10:30:02"))),
        ("10:30:04", "jenkins", _jenkins_main("started", ms("10:30:04"))),
        ("10:30:04", "github:status", _status("pending", "10:30:04")),
        ("10:30:05", "github:workflow_run", _workflow_run(
            "CI", CI_WORKFLOW, CI_RUN, 1, "queued", None, "10:30:05", "10:30:05")),
        ("10:30:10", "github:workflow_run", _workflow_run(
            "CI", CI_WORKFLOW, CI_RUN, 1, "in_progress", None, "10:30:10", "10:30:05")),
        ("10:30:12", "github:workflow_job", _workflow_job(
            "CI", "build", 399600001, CI_RUN, 1, "in_progress", None, "10:30:12")),
        ("10:30:12", "github:workflow_job", _workflow_job(
            "CI", "test", 399600002, CI_RUN, 1, "in_progress", None, "10:30:12")),
        ("10:32:00", "github:workflow_job", _workflow_job(
            "CI", "build", 399600001, CI_RUN, 1, "completed", "success", "10:30:12",
            "10:32:00")),
        ("10:33:04", "jenkins", _jenkins_main("completed.success", ms("10:33:04"), 180000)),
        ("10:33:04", "github:status", _status("success", "10:33:04")),
        ("10:33:06", "jenkins", _jenkins_main("finalized.success", ms("10:33:06"), 180000)),
        ("10:33:50", "github:workflow_job", _workflow_job(
            "CI", "test", 399600002, CI_RUN, 1, "completed", "failure", "10:30:12",
            "10:33:50", failed_step="Run tests")),
        ("10:34:00", "github:workflow_run", _workflow_run(
            "CI", CI_WORKFLOW, CI_RUN, 1, "completed", "failure", "10:34:00", "10:30:05")),
        ("10:34:00", "jenkins", _jenkins_integration(412, "STARTED", None, ms("10:34:00"))),
        ("10:34:30", "deploy", _deploy("test.in_progress", timestamp=t("10:34:30"),
                                       description="Deploying 9a8b7c6 to test")),
        ("10:35:30", "deploy", _deploy("test.success", timestamp=t("10:35:30"),
                                       description="Deployed 9a8b7c6 to test")),
        ("10:36:00", "deploy", _deploy("argocd.staging.success", timestamp=t("10:36:00"))),
        # Re-run of CI's failed jobs: attempt 2 replaces attempt 1's result.
        ("10:36:01", "github:workflow_run", _workflow_run(
            "CI", CI_WORKFLOW, CI_RUN, 2, "queued", None, "10:36:01", "10:36:01")),
        ("10:36:06", "github:workflow_job", _workflow_job(
            "CI", "test", 399600102, CI_RUN, 2, "in_progress", None, "10:36:06")),
        ("10:38:50", "github:workflow_job", _workflow_job(
            "CI", "test", 399600102, CI_RUN, 2, "completed", "success", "10:36:06",
            "10:38:50")),
        ("10:39:00", "github:workflow_run", _workflow_run(
            "CI", CI_WORKFLOW, CI_RUN, 2, "completed", "success", "10:39:00", "10:36:01")),
        ("10:39:00", "jenkins", _jenkins_integration(412, "COMPLETED", "UNSTABLE",
                                                     ms("10:39:00"), 300000, failed=2)),
        # Production needs ben's approval.
        ("10:40:00", "github:deployment", _deployment()),
        ("10:40:00", "github:workflow_job", _waiting_deploy_job()),
        ("10:40:00", "github:deployment_review", _review("requested", "10:40:00")),
        ("10:41:00", "jenkins", _jenkins_integration(413, "STARTED", None, ms("10:41:00"))),
        ("10:45:00", "github:deployment_review", _review("approved", "10:45:00")),
        ("10:45:05", "github:workflow_job", _workflow_job(
            "Deploy", "deploy-production", 399500001, DEPLOY_RUN, 1, "in_progress", None,
            "10:45:05")),
        ("10:45:06", "github:deployment_status", _deployment_status("in_progress", "10:45:06")),
        ("10:46:00", "jenkins", _jenkins_integration(413, "COMPLETED", "SUCCESS",
                                                     ms("10:46:00"), 300000)),
        ("10:47:00", "github:deployment_status", _deployment_status("success", "10:47:00")),
        ("10:47:02", "github:workflow_job", _workflow_job(
            "Deploy", "deploy-production", 399500001, DEPLOY_RUN, 1, "completed", "success",
            "10:45:05", "10:47:02")),
        ("10:47:05", "github:workflow_run", _workflow_run(
            "Deploy", DEPLOY_WORKFLOW, DEPLOY_RUN, 1, "completed", "success", "10:47:05",
            "10:40:00")),
    ]
    return [(sender, payload) for at, sender, payload in timed if at <= until]


def _check(source: str, name: str, status: str, url: str, updated: str, kind: str,
           summary: str | None, **details: Any) -> dict[str, Any]:
    return {"source": source, "name": name, "status": status, "url": url,
            "updated_at": t(updated), "kind": kind, "summary": summary, "details": details}


# The merged PR's body says "Closes #9."
CLOSES_9 = [{"key": "#9", "url": "https://github.com/octo-org/octo-app/issues/9", "title": None,
             "status": None}]


def _gh_commit() -> dict[str, Any]:
    return {
        "repo": REPO,
        "sha": MERGE,
        "short_sha": "9a8b7c6",
        "url": f"https://github.com/{REPO}/commit/{MERGE}",
        "branch": "main",
        "message": "Merge pull request #12 from octo-org/feature/login",
        "author": {"login": "ana", "name": "Ana Lima"},
        # The merge commit's card links to the pull request it merged.
        "pull_request": {
            "number": 12, "title": "Add login page", "state": "merged",
            "url": f"https://github.com/{REPO}/pull/12", "review": None, "draft": False,
            "author": "ana", "head_sha": PR_HEAD, "labels": [], "reviews": [],
            "requested_reviewers": [],
        },
    }


CI_WORKFLOW_LINE = _check(
    "github", "CI", "success", f"{ACTIONS}/{CI_RUN}", "10:39:00", "workflow", "attempt 2",
    display_name="CI", workflow="CI", workflow_id=CI_WORKFLOW, run_id=CI_RUN, run_attempt=2,
    run_number=41, trigger="push")
CI_BUILD_LINE = _check(
    "github", "CI / build", "success", f"{ACTIONS}/{CI_RUN}/job/399600001", "10:32:00", "job",
    None, display_name="CI / build", workflow="CI", job="build", run_id=CI_RUN, run_attempt=1,
    job_id=399600001, check_run_id=399600001)
CI_TEST_LINE = _check(
    "github", "CI / test", "success", f"{ACTIONS}/{CI_RUN}/job/399600102", "10:38:50", "job",
    "attempt 2", display_name="CI / test", workflow="CI", job="test", run_id=CI_RUN,
    run_attempt=2, job_id=399600102, check_run_id=399600102)
JENKINS_MAIN_LINE = _check(
    "jenkins", "octo-app/main", "success", f"{JENKINS}job/octo-app/job/main/31/", "10:33:06",
    "build", "#31 · 122 tests passed · 3m 00s",
    display_name="octo-app/main", job="octo-app/main", job_url=f"{JENKINS}job/octo-app/job/main/",
    build_number=31, result="SUCCESS", duration_ms=180000,
    tests={"total": 124, "failed": 0, "passed": 122, "skipped": 2, "failed_tests": []},
    log_url=f"{JENKINS}job/octo-app/job/main/31/console", branch="main")


def _integration_line(number: int, status: str, updated: str, summary: str,
                      **details: Any) -> dict[str, Any]:
    return _check(
        "jenkins", "octo-app-integration", status,
        f"{JENKINS}job/octo-app-integration/{number}/", updated, "build", summary,
        display_name="octo-app-integration", job="octo-app-integration",
        job_url=f"{JENKINS}job/octo-app-integration/", build_number=number, **details,
        log_url=f"{JENKINS}job/octo-app-integration/{number}/console",
        parameters={"TARGET_ENV": "test", "BROWSER": "firefox", "GIT_REF": "main"},
        branch="origin/main")


TEST_LINE = {
    "environment": "test", "status": "success", "url": "https://test.octo-app.example.com",
    "updated_at": t("10:35:30"), "source": "deploy", "description": "Deployed 9a8b7c6 to test",
    "deployment_id": "311", "approval": None,
}
STAGING_LINE = {
    "environment": "staging", "status": "success",
    "url": "https://argocd.octo.example.com/applications/octo-app-staging",
    "updated_at": t("10:36:00"), "source": "deploy",
    "description": "Argo CD sync Succeeded, health Healthy",
    "deployment_id": "octo-app-staging/57", "approval": None,
}

EXPECTED_CARD: dict[str, Any] = {
    **_gh_commit(),
    "checks": [
        CI_WORKFLOW_LINE,
        CI_BUILD_LINE,
        CI_TEST_LINE,
        _check("github", "Deploy", "success", f"{ACTIONS}/{DEPLOY_RUN}", "10:47:05", "workflow",
               None, display_name="Deploy", workflow="Deploy", workflow_id=DEPLOY_WORKFLOW,
               run_id=DEPLOY_RUN, run_attempt=1, run_number=9, trigger="push"),
        _check("github", "Deploy / deploy-production", "success",
               f"{ACTIONS}/{DEPLOY_RUN}/job/399500001", "10:47:02", "job", None,
               display_name="Deploy / deploy-production", workflow="Deploy",
               job="deploy-production", run_id=DEPLOY_RUN, run_attempt=1,
               job_id=399500001, check_run_id=399500001),
        # Build 413 replaced 412 (unstable); Jenkins' own commit status for main #31 is the
        # same build as the octo-app/main line, so it is not shown twice.
        _integration_line(413, "success", "10:46:00", "#413 · 48 tests passed · 5m 00s",
                          result="SUCCESS", duration_ms=300000,
                          tests={"total": 48, "failed": 0, "passed": 48, "skipped": 0,
                                 "failed_tests": []}),
        JENKINS_MAIN_LINE,
    ],
    "deployments": [
        TEST_LINE,
        STAGING_LINE,
        {
            "environment": "production", "status": "success",
            "url": "https://octo-app.example.com", "updated_at": t("10:47:00"),
            "source": "github", "description": "Deployed by GitHub Actions",
            "deployment_id": str(PROD_DEPLOYMENT),
            "approval": {"state": "approved", "by": ["ben"], "reviewers": [],
                         "comment": "Ship it.", "run_id": DEPLOY_RUN},
        },
    ],
    "tickets": CLOSES_9,
    "overall": "success",
    "superseded_by": None,
    "stamps": [],
    "merge_queue": None,
    "updated_at": t("10:47:05"),
}

# At 10:42 production waits for ben, and build 413 of the integration job is running.
EXPECTED_WAITING_CARD: dict[str, Any] = {
    **_gh_commit(),
    "checks": [
        CI_WORKFLOW_LINE,
        CI_BUILD_LINE,
        CI_TEST_LINE,
        _check("github", "Deploy / deploy-production", "waiting",
               f"{ACTIONS}/{DEPLOY_RUN}/job/399500001", "10:40:00", "job", None,
               display_name="Deploy / deploy-production", workflow="Deploy",
               job="deploy-production", run_id=DEPLOY_RUN, run_attempt=1,
               job_id=399500001, check_run_id=399500001),
        _integration_line(413, "running", "10:41:00", "#413"),
        JENKINS_MAIN_LINE,
    ],
    "deployments": [
        TEST_LINE,
        STAGING_LINE,
        {
            "environment": "production", "status": "waiting",
            "url": f"{ACTIONS}/{DEPLOY_RUN}/job/399500001", "updated_at": t("10:40:00"),
            "source": "github", "description": None, "deployment_id": str(PROD_DEPLOYMENT),
            "approval": {"state": "waiting", "by": [], "reviewers": ["ben"], "comment": None,
                         "run_id": DEPLOY_RUN},
        },
    ],
    "tickets": CLOSES_9,
    "overall": "waiting",
    "superseded_by": None,
    "stamps": [],
    "merge_queue": None,
    "updated_at": t("10:41:00"),
}
