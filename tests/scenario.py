"""The issue's reference stream for one commit: push, PR, three check runs through their
stages, a commit status, a deployment and its statuses, as (event type, payload) pairs."""

from __future__ import annotations

import copy
from typing import Any

from tests.github_sender import load_fixture

HEAD = "6dcb09b5b57875f334f61aebed695e2e4193db5e"
REPO = "octo-org/octo-app"


def _check_run(name: str, run_id: int, stage: str, conclusion: str | None,
               started: str, completed: str | None) -> dict[str, Any]:
    payload = copy.deepcopy(load_fixture("check_run.completed"))
    run = payload["check_run"]
    payload["action"] = "completed" if stage == "completed" else "created"
    run.update(id=run_id, name=name, status=stage, conclusion=conclusion,
               started_at=started, completed_at=completed,
               details_url=f"https://ci.octo-app.example.com/builds/{run_id}")
    run["output"]["title"] = f"{name}: {conclusion}" if conclusion else None
    run["output"]["summary"] = SUMMARIES.get(conclusion or "")
    run["html_url"] = f"https://github.com/octo-org/octo-app/runs/{run_id}"
    return payload


SUMMARIES = {
    "success": "All steps passed.",
    "failure": "2 tests failed:\n- test_login_form_rejects_empty_password\n- test_session_expires",
}


def check_run_stream() -> list[tuple[str, dict[str, Any]]]:
    stream = []
    for run_id, name, conclusion, done in [
        (101, "build", "success", "10:03:00"),
        (102, "lint", "success", "10:02:00"),
        (103, "test", "failure", "10:04:00"),
    ]:
        for stage, concl, completed in [
            ("queued", None, None),
            ("in_progress", None, None),
            ("completed", conclusion, f"2026-11-20T{done}Z"),
        ]:
            started = "2026-11-20T10:01:00Z" if stage == "queued" else "2026-11-20T10:01:10Z"
            stream.append(("check_run", _check_run(name, run_id, stage, concl, started,
                                                   completed)))
    return stream


def commit_stream() -> list[tuple[str, dict[str, Any]]]:
    """Every delivery of the scenario, in the order GitHub would send them."""
    return [
        ("push", load_fixture("push")),
        ("pull_request", load_fixture("pull_request.opened")),
        *check_run_stream(),
        ("status", load_fixture("status.pending")),
        ("status", load_fixture("status.success")),
        ("deployment", load_fixture("deployment.created")),
        ("deployment_status", load_fixture("deployment_status.in_progress")),
        ("deployment_status", load_fixture("deployment_status.success")),
    ]


EXPECTED_CARD: dict[str, Any] = {
    "repo": REPO,
    "sha": HEAD,
    "short_sha": "6dcb09b",
    "url": f"https://github.com/{REPO}/commit/{HEAD}",
    "branch": "feature/login",
    "message": "Add login page",
    "author": {"login": "ana", "name": "Ana Lima"},
    "pull_request": {
        "number": 12,
        "title": "Add login page",
        "state": "open",
        "url": f"https://github.com/{REPO}/pull/12",
        "review": "pending",
        "draft": False,
        "author": "ana",
        "head_sha": HEAD,
        "labels": [],
        "reviews": [],
        "requested_reviewers": ["ben"],
    },
    "checks": [
        {"source": "github", "name": "build", "status": "success",
         "url": "https://ci.octo-app.example.com/builds/101",
         "updated_at": "2026-11-20T10:03:00Z", "kind": "check", "summary": "build: success",
         "details": {"html_url": "https://github.com/octo-org/octo-app/runs/101",
                     "output_summary": "All steps passed.",
                     "check_run_id": 101, "app": "ci-app", "annotations": 0}},
        {"source": "github", "name": "ci/jenkins", "status": "success",
         "url": "https://jenkins.octo-app.example.com/job/octo-app/job/feature%2Flogin/7/",
         "updated_at": "2026-11-20T10:04:30Z", "kind": "status",
         "summary": "Build #7 succeeded in 2m 30s", "details": {}},
        {"source": "github", "name": "lint", "status": "success",
         "url": "https://ci.octo-app.example.com/builds/102",
         "updated_at": "2026-11-20T10:02:00Z", "kind": "check", "summary": "lint: success",
         "details": {"html_url": "https://github.com/octo-org/octo-app/runs/102",
                     "output_summary": "All steps passed.",
                     "check_run_id": 102, "app": "ci-app", "annotations": 0}},
        {"source": "github", "name": "test", "status": "failure",
         "url": "https://ci.octo-app.example.com/builds/103",
         "updated_at": "2026-11-20T10:04:00Z", "kind": "check", "summary": "test: failure",
         "details": {"html_url": "https://github.com/octo-org/octo-app/runs/103",
                     "output_summary": SUMMARIES["failure"],
                     "check_run_id": 103, "app": "ci-app", "annotations": 0}},
    ],
    "deployments": [
        {"environment": "staging", "status": "success",
         "url": "https://staging.octo-app.example.com",
         "updated_at": "2026-11-20T10:07:00Z", "source": "github",
         "description": "Deployed 6dcb09b to staging", "deployment_id": "145988746",
         "approval": None},
    ],
    # The PR's body says "Closes #9."
    "tickets": [{"key": "#9", "url": f"https://github.com/{REPO}/issues/9", "title": None,
                 "status": None}],
    "overall": "failure",
    "superseded_by": None,
    "stamps": [],
    "merge_queue": None,
    "updated_at": "2026-11-20T10:07:00Z",
}
