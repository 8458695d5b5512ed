"""The status vocabulary of cards and the roll-up of many statuses into one."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum


class Status(StrEnum):
    """What a check, build or deployment is doing; `waiting` means waiting for a human."""

    PENDING = "pending"
    RUNNING = "running"
    WAITING = "waiting"
    SUCCESS = "success"
    FAILURE = "failure"
    CANCELLED = "cancelled"
    SKIPPED = "skipped"
    NEUTRAL = "neutral"

    @property
    def rank(self) -> int:
        """Progress rank: breaks ties between events with the same event time.

        A slot's later stage wins a tie (queued and in_progress deliveries often share a
        timestamp), and among outcomes the more alarming one wins.
        """
        return _RANK[self]

    @property
    def finished(self) -> bool:
        return self.rank >= _RANK[Status.NEUTRAL]


_RANK = {
    Status.PENDING: 0,
    Status.WAITING: 1,
    Status.RUNNING: 2,
    Status.NEUTRAL: 3,
    Status.SKIPPED: 4,
    Status.SUCCESS: 5,
    Status.CANCELLED: 6,
    Status.FAILURE: 7,
}

# What the card as a whole says: the first of these that any part has.
_OVERALL_PRECEDENCE = (
    Status.FAILURE,
    Status.WAITING,
    Status.RUNNING,
    Status.PENDING,
    Status.CANCELLED,
    Status.SUCCESS,
    Status.NEUTRAL,
    Status.SKIPPED,
)


def overall(statuses: Iterable[Status]) -> Status:
    """Roll up the statuses of a card's checks and deployments; no parts means `neutral`."""
    present = set(statuses)
    for status in _OVERALL_PRECEDENCE:
        if status in present:
            return status
    return Status.NEUTRAL


_GITHUB_CONCLUSIONS = {
    "success": Status.SUCCESS,
    "failure": Status.FAILURE,
    "timed_out": Status.FAILURE,
    "startup_failure": Status.FAILURE,
    "action_required": Status.WAITING,
    "cancelled": Status.CANCELLED,
    "stale": Status.CANCELLED,
    "skipped": Status.SKIPPED,
    "neutral": Status.NEUTRAL,
}

_GITHUB_RUN_STATES = {
    "requested": Status.PENDING,
    "queued": Status.PENDING,
    "pending": Status.PENDING,
    "in_progress": Status.RUNNING,
    "waiting": Status.WAITING,
}


def from_github_run(status: str | None, conclusion: str | None) -> Status:
    """Check runs, check suites, workflow runs and jobs: `status` plus `conclusion`."""
    if status == "completed" or conclusion:
        return _GITHUB_CONCLUSIONS.get(conclusion or "", Status.NEUTRAL)
    return _GITHUB_RUN_STATES.get(status or "", Status.PENDING)


_COMMIT_STATES = {
    "pending": Status.PENDING,
    "success": Status.SUCCESS,
    "failure": Status.FAILURE,
    "error": Status.FAILURE,
}


def from_commit_status(state: str) -> Status:
    """The legacy commit status API's `state`."""
    return _COMMIT_STATES.get(state, Status.NEUTRAL)


_DEPLOYMENT_STATES = {
    "pending": Status.PENDING,
    "queued": Status.PENDING,
    "in_progress": Status.RUNNING,
    "waiting": Status.WAITING,
    "success": Status.SUCCESS,
    "failure": Status.FAILURE,
    "error": Status.FAILURE,
}

DEPLOYMENT_STATES = frozenset(_DEPLOYMENT_STATES)


def from_deployment_state(state: str) -> Status | None:
    """A deployment status `state`; None for states that say nothing new (`inactive`)."""
    return _DEPLOYMENT_STATES.get(state)


DEPLOY_WEBHOOK_STATES = {
    "pending": Status.PENDING,
    "in_progress": Status.RUNNING,
    "waiting": Status.WAITING,
    "success": Status.SUCCESS,
    "failure": Status.FAILURE,
    "error": Status.FAILURE,
}
"""The `status` values of the generic deploy webhook (DESIGN.md), and what they mean."""

JENKINS_PHASES = ("QUEUED", "STARTED", "COMPLETED", "FINALIZED", "NONE")

_JENKINS_RESULTS = {
    "SUCCESS": Status.SUCCESS,
    "FAILURE": Status.FAILURE,
    "UNSTABLE": Status.FAILURE,  # the build ran, but tests failed
    "ABORTED": Status.CANCELLED,
    "NOT_BUILT": Status.SKIPPED,
}


def from_jenkins(phase: str, result: str | None) -> Status:
    """A Notification plugin `build.phase` and `build.status` (the build's Result)."""
    if phase == "QUEUED":
        return Status.PENDING
    if result:
        return _JENKINS_RESULTS.get(result, Status.NEUTRAL)
    # COMPLETED and FINALIZED always carry a result; NONE (the notifyEndpoints step) is
    # sent from inside a build that is still running when it has none.
    return Status.RUNNING if phase in ("STARTED", "NONE") else Status.NEUTRAL
