"""`routes:`: which channel a repo's cards go to."""

from __future__ import annotations

from pydantic import Field

from correlation.routing import Per, RouteRule
from devexbot.config.base import Strict


class NudgeTimes(Strict):
    """The nudge and stuck-build limits a route may override (unset: the global ones)."""

    review_nudge_after_hours: float | None = Field(default=None, ge=0)
    approval_nudge_after_hours: float | None = Field(default=None, ge=0)
    # Deprecated and no longer read: expiry is the environment's (`approvals.<env>`).
    approval_expires_after_hours: float | None = Field(default=None, ge=0)
    stuck_after_minutes: float | None = Field(default=None, ge=0)
    max_nudges: int | None = Field(default=None, ge=0)


class Route(Strict):
    """Which channel a repo's cards go to, for which branches."""

    repos: list[str] = Field(min_length=1)
    channel: str = Field(min_length=1)
    branches: list[str] = Field(default_factory=lambda: ["*"])
    exclude_branches: list[str] = Field(default_factory=list)
    pull_requests: bool = False  # also take the head commits of open PRs, whatever the branch
    labels: list[str] = Field(default_factory=list)  # only PRs with one of these labels
    dm_author_on_failure: bool = False
    schedule: NudgeTimes = Field(default_factory=NudgeTimes)  # this route's nudge limits
    # Whose cards: GitHub logins or globs (`*`, `?`; `[` and `]` are literal).
    exclude_authors: list[str] = Field(default_factory=list)
    only_authors: list[str] = Field(default_factory=list)
    per: Per = "commit"  # `pull_request`: one message per PR, updated to its current head

    def rule(self) -> RouteRule:
        """What the routing decision reads of this route."""
        return RouteRule(
            repos=tuple(self.repos), channel=self.channel, branches=tuple(self.branches),
            exclude_branches=tuple(self.exclude_branches), pull_requests=self.pull_requests,
            labels=tuple(self.labels), dm_author_on_failure=self.dm_author_on_failure,
            schedule=tuple(self.schedule.model_dump(exclude_none=True).items()),
            exclude_authors=tuple(self.exclude_authors), only_authors=tuple(self.only_authors),
            per=self.per)
