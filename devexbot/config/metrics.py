"""`metrics:`: what the delivery metrics (DORA's four keys) count as production, how long
after a deploy a failure is charged to it, and which pull request label marks a hotfix."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from pydantic import Field, field_validator

from devexbot.config.base import Duration, Strict

EnvironmentName = Annotated[str, Field(min_length=1, max_length=100)]


class MetricsSettings(Strict):
    """`production`: the environments the figures are about when none is named;
    `failure_window`: a failed deploy, rollback, revert or hotfix this long after a deploy
    counts as its failure; `hotfix_label`: the label of hotfix pull requests (null: none);
    `period`: the period shown when none is asked for (and of the Prometheus gauges)."""

    production: list[EnvironmentName] = Field(default_factory=lambda: ["production"],
                                              min_length=1)
    failure_window: Duration = timedelta(hours=24)
    hotfix_label: Annotated[str, Field(min_length=1, max_length=100)] | None = "hotfix"
    period: Duration = timedelta(days=30)

    @field_validator("failure_window", "period")
    @classmethod
    def _positive(cls, value: timedelta) -> timedelta:
        if value <= timedelta(0):
            raise ValueError("must be longer than 0 (say 24h, 30d)")
        return value

    @property
    def production_keys(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(name.casefold() for name in self.production))
