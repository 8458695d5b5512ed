"""What a delivery metrics request asks for (repository, environment, period), checked in
one place for the API and the page: a 400 with a one-line reason for anything wrong."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import Depends, Request

from correlation.delivery_metrics import MAX_PERIOD
from correlation.events import REPO_NAME
from devexbot.delivery.metrics import DeliveryMetrics
from devexbot.errors import RequestError

_REPO = re.compile(f"^{REPO_NAME.pattern}$")
MAX_ENVIRONMENT = 100
EARLIEST, LATEST = datetime(1970, 1, 1, tzinfo=UTC), datetime(2999, 12, 31, tzinfo=UTC)


async def delivery_metrics_of(request: Request) -> DeliveryMetrics:
    delivery: DeliveryMetrics = request.app.state.delivery_metrics
    return delivery


DeliveryMetricsDep = Annotated[DeliveryMetrics, Depends(delivery_metrics_of)]


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
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    if not EARLIEST <= moment <= LATEST:
        raise RequestError(400, f"{name} must be between 1970 and 2999, not {value[:40]!r}")
    return moment
