"""A realistic mix of GitHub deliveries per commit, for the Slack benchmarks and load tests.

One commit = push, PR opened and edited, an approving review, 6 check runs each queued /
in_progress / completed, a commit status pending / success, and 2 deployments (staging,
production) each created / in_progress / success: 30 deliveries.
"""

from __future__ import annotations

import copy
import json
import random
from typing import Any

from tests.github_sender import load_fixture
from tests.scenario import HEAD, REPO, _check_run

CHECKS = ("build", "lint", "test", "e2e", "security", "docs")
Delivery = tuple[str, bytes, str]  # (event type, body, delivery id)


def commit_events(i: int, *, repo: str, sha: str, checks: tuple[str, ...] = CHECKS
                  ) -> list[tuple[str, dict[str, Any]]]:
    """The deliveries of commit number `i` (its own branch and PR number), in send order."""
    events: list[tuple[str, dict[str, Any]]] = [
        ("push", load_fixture("push")),
        ("pull_request", load_fixture("pull_request.opened")),
    ]
    for k, name in enumerate(checks):
        for stage, conclusion, completed in (("queued", None, None),
                                             ("in_progress", None, None),
                                             ("completed", "success", "2026-11-20T10:03:00Z")):
            events.append(("check_run", _check_run(name, i * 100 + k, stage, conclusion,
                                                   "2026-11-20T10:01:00Z", completed)))
    events += [("status", load_fixture("status.pending")),
               ("status", load_fixture("status.success")),
               ("pull_request", load_fixture("pull_request.edited")),
               ("pull_request_review", load_fixture("pull_request_review.submitted.approved"))]
    for n, environment in enumerate(("staging", "production")):
        for name in ("deployment.created", "deployment_status.in_progress",
                     "deployment_status.success"):
            payload = copy.deepcopy(load_fixture(name))
            payload["deployment"].update(id=i * 10 + n + 1, environment=environment)
            if "deployment_status" in payload:
                payload["deployment_status"]["environment"] = environment
                payload["deployment_status"]["id"] = (i * 10 + n) * 10 + len(events)
            events.append(("deployment" if name.startswith("deployment.") else
                           "deployment_status", payload))
    out = []
    for event, payload in events:
        if "pull_request" in payload:
            payload["pull_request"]["number"] = 1000 + i
            payload["number"] = 1000 + i
        raw = (json.dumps(payload).replace(HEAD, sha).replace(REPO, repo)
               .replace("feature/login", f"feature/c{i}"))
        out.append((event, json.loads(raw)))
    return out


def schedule(commits: list[list[tuple[str, dict[str, Any]]]], *, spacing: float,
             spread: float, duplicate: float, rng: random.Random
             ) -> list[tuple[float, int, Delivery]]:
    """(send at, commit index, delivery): commits start `spacing` apart, each commit's
    deliveries spread over `spread` seconds with jitter (so out of order), and a fraction
    `duplicate` of them sent a second time later with the same delivery id."""
    plan: list[tuple[float, int, Delivery]] = []
    for c, events in enumerate(commits):
        start = c * spacing
        step = spread / max(len(events), 1)
        for j, (event, payload) in enumerate(events):
            at = start + j * step + rng.uniform(0, spread / 4)
            delivery = (event, json.dumps(payload).encode(), f"bench-{c}-{j}-{rng.random()}")
            plan.append((at, c, delivery))
            if rng.random() < duplicate:
                plan.append((at + rng.uniform(0, spread / 2), c, delivery))
    plan.sort(key=lambda item: item[0])
    return plan
