"""`GET /api/metrics`: the delivery metrics (DORA's four keys) as JSON, with the deploys,
commits and failures behind each figure; the same readers as the rest of `/api`."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field

from correlation.card import iso
from correlation.delivery_metrics import MAX_PERIOD
from correlation.events import REPO_NAME
from devexbot.delivery.metrics import DeliveryMetrics
from devexbot.errors import RequestError
from devexbot.http.answers import refusals
from devexbot.http.api import READER

router = APIRouter()

_REPO = re.compile(f"^{REPO_NAME.pattern}$")
MAX_ENVIRONMENT = 100


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


async def delivery_metrics_of(request: Request) -> DeliveryMetrics:
    delivery: DeliveryMetrics = request.app.state.delivery_metrics
    return delivery


DeliveryMetricsDep = Annotated[DeliveryMetrics, Depends(delivery_metrics_of)]


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


def metrics_scope(delivery: DeliveryMetrics, *, repo: str | None, env: str | None,
                  since: str | None, until: str | None) -> dict[str, Any]:
    """The query's repo, environment and period, or a 400 saying what is wrong."""
    if repo is not None and repo != "" and not _REPO.match(repo):
        raise RequestError(400, f"repo must look like owner/repo, not {repo[:80]!r}")
    if env is not None and (not env.strip() or len(env) > MAX_ENVIRONMENT or "\x00" in env):
        raise RequestError(400, "env must be an environment's name (1 to 100 characters)")
    end = _moment("until", until) if until else delivery.clock()
    start = _moment("since", since) if since else end - delivery.settings.period
    if start >= end:
        raise RequestError(400, "since must be before until")
    if end - start > MAX_PERIOD:
        raise RequestError(400, "since and until may be at most 400 days apart")
    return {"repo": repo or None, "environment": env.strip() if env else None,
            "since": start, "until": end}


def _moment(name: str, value: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise RequestError(400, f"{name} must be an ISO 8601 date or time "
                                f"(2026-11-02 or 2026-11-02T09:00:00Z), not {value[:40]!r}"
                           ) from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
