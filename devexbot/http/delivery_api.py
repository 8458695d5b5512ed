"""`GET /api/metrics`: the delivery metrics (DORA's four keys) as JSON, with the deploys,
commits and failures behind each figure; the same readers as the rest of `/api`."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field

from correlation.card import iso
from devexbot.delivery.scope import DeliveryMetricsDep, metrics_scope
from devexbot.http.answers import refusals
from devexbot.http.api import READER

router = APIRouter()


class MetricsAnswer(BaseModel):
    """The figures of each repository's environment over [since, until)."""

    model_config = ConfigDict(extra="allow")

    since: str = Field(description="start of the period (ISO 8601, UTC)")
    until: str = Field(description="end of the period, not included")
    failure_window_hours: float = Field(description="how long after a deploy a failure counts")
    metrics: list[dict[str, Any]] = Field(description="one entry per repository: "
                                                      "docs/api.md#delivery-metrics")


def _answers() -> dict[int | str, dict[str, Any]]:
    return {200: {"model": MetricsAnswer, "description": "the figures"}}


@router.get("/api/metrics", response_model=None, dependencies=READER,
            responses=_answers() | refusals({
                400: "`repo` is not owner/repo, `env` is blank or too long, or `since`/"
                     "`until` are not ISO 8601 dates, are the wrong way round or too far apart",
                401: "the caller is neither on the bot's machine, signed in, nor holding the "
                     "web token (unless `DEVEXBOT_API_ACCESS=open`)"}))
async def read_metrics(
    delivery: DeliveryMetricsDep,
    repo: Annotated[str | None, Query(description="owner/repo (default: every repository "
                                                  "that deployed there in the period)")] = None,
    env: Annotated[str | None, Query(description="the environment (default: the config's "
                                                 "production environments)")] = None,
    since: Annotated[str | None, Query(description="ISO 8601 date or time (default: "
                                                   "`until` minus the config's period)")] = None,
    until: Annotated[str | None, Query(description="ISO 8601 date or time, not included "
                                                   "(default: now)")] = None,
) -> dict[str, Any]:
    """Deployment frequency, lead time for changes, change failure rate and time to
    restore, with weekly buckets and what is behind each figure."""
    scope = metrics_scope(delivery, repo=repo, env=env, since=since, until=until)
    reports = await run_in_threadpool(lambda: delivery.reports(**scope))
    return {"since": iso(scope["since"]), "until": iso(scope["until"]),
            "failure_window_hours": delivery.settings.failure_window / timedelta(hours=1),
            "metrics": [r.to_json() for r in reports]}
