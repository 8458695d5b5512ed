"""`retry:`: which Jenkins jobs the Retry button may start again, per repo glob."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from correlation.policies import RetryPolicy
from devexbot.config.base import Strict

JobGlob = Annotated[str, Field(min_length=1, max_length=255)]


class RepoRetry(Strict):
    """The jobs Retry may start on one repo glob's cards; unset: the defaults decide."""

    jobs: list[JobGlob] | None = None


class RetrySettings(Strict):
    """`jobs`: globs of Jenkins job full names (`octo-app/*`); unset: the jobs Jenkins
    itself says built the card's commit. `repos` overrides them per repo glob."""

    jobs: list[JobGlob] | None = None
    repos: dict[str, RepoRetry] = Field(default_factory=dict)

    def policy(self) -> RetryPolicy:
        """What the Retry decisions read."""
        return RetryPolicy(
            jobs=None if self.jobs is None else tuple(self.jobs),
            repos=tuple((glob, None if rule.jobs is None else tuple(rule.jobs))
                        for glob, rule in self.repos.items()))
