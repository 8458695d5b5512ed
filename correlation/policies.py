"""The policies the pure decisions read: how cards merge, who decides on which environment
and for how long, and the team's own buttons.

Plain frozen data: the YAML config (`devexbot.config`) parses and validates, then builds
these once (`BotConfig.policies()`); the decisions in `correlation` take them as arguments.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time, timedelta
from fnmatch import fnmatchcase
from typing import Literal

from correlation.routing import RouteRule
from correlation.status import Status

__all__ = ["MERGE_METHODS", "ApprovalPolicy", "ButtonKind", "ButtonPolicy", "MergeMethod",
           "MergePolicy", "NoticePolicy", "Policies", "RetryPolicy", "approval_expiry"]

ButtonKind = Literal["jenkins", "runbook", "link"]
MergeMethod = Literal["merge", "squash", "rebase"]
MERGE_METHODS: tuple[MergeMethod, ...] = ("merge", "squash", "rebase")  # GitHub's order
DEFAULT_EXPIRY = timedelta(hours=24)


@dataclass(frozen=True)
class MergePolicy:
    """The merge methods the Merge button may use, in order of preference (the repository's
    settings on GitHub narrow them further: see `correlation.merge_methods`)."""

    methods: tuple[MergeMethod, ...] = MERGE_METHODS
    # Without branch protection to ask, only merge when every check is green.
    require_green: bool = True
    # (repo glob, methods): the first glob that matches a repo gives its methods instead.
    repos: tuple[tuple[str, tuple[MergeMethod, ...]], ...] = ()


@dataclass(frozen=True)
class NoticePolicy:
    """When people are at work, and when nudges and stuck-build notes are due (a route may
    have its own). A span of zero turns that notice off."""

    timezone: str = "UTC"
    working_start: time = time(9)
    working_end: time = time(18)
    working_days: frozenset[int] = frozenset(range(5))  # 0 = Monday
    holidays: frozenset[date] = frozenset()
    review_nudge_after: timedelta = timedelta(hours=4)  # working time
    approval_nudge_after: timedelta = timedelta(hours=2)  # clock time
    stuck_after: timedelta = timedelta(minutes=30)
    max_nudges: int = 3  # per pull request or approval request


@dataclass(frozen=True)
class ApprovalPolicy:
    """What the decisions read of an environment's approval policy."""

    environment: str
    required: int = 1  # approvals it takes
    notify_author: bool = False  # the PR's author is asked to try a deployed change
    expires_after: timedelta | None = None  # the environment's own span; None: not set


@dataclass(frozen=True)
class ButtonPolicy:
    """One of the team's own buttons: when it shows (statuses, repo globs, check-name globs,
    one button each) and what it fills in."""

    label: str
    key: str  # its id, stable across label edits when the config gives one
    kind: ButtonKind
    templates: tuple[str, ...] = ()  # every text it fills placeholders in
    link: str | None = None
    confirm: str | None = None
    statuses: tuple[Status, ...] = tuple(Status)
    repos: tuple[str, ...] = ("*",)
    checks: tuple[str, ...] | None = None  # None: about the card, not its checks
    same_parameters: bool = False  # a Jenkins button starting from its build's parameters


@dataclass(frozen=True)
class RetryPolicy:
    """Which Jenkins jobs the Retry button may start again, per repo.

    `jobs` is a list of job-name globs, or None: no list, so a job may be retried when
    Jenkins itself says the build checked out this repo at the card's commit (see
    `correlation.retry`). `repos` overrides it per repo glob, in order: the first glob
    that matches the repo and sets `jobs` decides.
    """

    jobs: tuple[str, ...] | None = None
    repos: tuple[tuple[str, tuple[str, ...] | None], ...] = ()

    def jobs_for(self, repo: str) -> tuple[str, ...] | None:
        """The job globs Retry is limited to on `repo`; None: the jobs Jenkins vouches for."""
        for glob, jobs in self.repos:
            if jobs is not None and fnmatchcase(repo.lower(), glob.lower()):
                return jobs
        return self.jobs


@dataclass(frozen=True)
class Policies:
    """Every policy a decision reads, built once from the config."""

    merge: MergePolicy = MergePolicy()
    approvals: tuple[ApprovalPolicy, ...] = ()
    buttons: tuple[ButtonPolicy, ...] = ()
    routes: tuple[RouteRule, ...] = ()  # the config's, in order: the first that takes a card
    retry: RetryPolicy = RetryPolicy()
    # The expiry of deploys whose environment sets none (the deprecated
    # `schedule.approval_expires_after_hours`).
    default_expiry: timedelta = DEFAULT_EXPIRY

    def approval(self, environment: str) -> ApprovalPolicy | None:
        """The policy for an environment (names compared without case, like on cards)."""
        for policy in self.approvals:
            if policy.environment.casefold() == environment.casefold():
                return policy
        return None

    def approval_expiry(self, environment: str, *, signoff: bool = False) -> timedelta | None:
        """How long a request to decide on `environment` stays open; None: for ever."""
        return approval_expiry(self.approval(environment), self.default_expiry,
                               signoff=signoff)


def approval_expiry(policy: ApprovalPolicy | None, default: timedelta, *,
                    signoff: bool) -> timedelta | None:
    """The environment's own span; where it sets none, `default` for a deploy waiting for
    approval, and never for a sign-off. A span of 0 is never."""
    if policy is not None and policy.expires_after is not None:
        span = policy.expires_after
    elif signoff:
        return None
    else:
        span = default
    return span if span > timedelta(0) else None
