"""The webhook routes' route class: each delivery is timed and counted by source and result."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute

from devexbot.errors import DevexbotError
from devexbot.http.metrics import Metrics

# What a refusal is counted as; answered deliveries count as their ingest outcome.
_REFUSALS = {400: "invalid", 401: "unauthorized", 413: "too_large", 503: "not_configured"}


class MeteredRoute(APIRoute):
    """Observes `devexbot_ingest_seconds` and `devexbot_webhook_deliveries` per delivery."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()
        source = self.path.rstrip("/").rsplit("/", 1)[-1]

        async def metered(request: Request) -> Response:
            metrics: Metrics = request.app.state.metrics
            started = time.perf_counter()
            try:
                response = await handle(request)
            except DevexbotError as exc:
                _count(metrics, source, exc.status_code, None)
                raise
            except Exception:
                _count(metrics, source, 500, None)
                raise
            finally:
                metrics.ingest_seconds.labels(source).observe(time.perf_counter() - started)
            _count(metrics, source, response.status_code, response)
            return response

        return metered


def _count(metrics: Metrics, source: str, status: int, response: Response | None) -> None:
    result = _REFUSALS.get(status) or ("error" if status >= 500 else f"http_{status}")
    if response is not None and status < 300:
        try:
            result = str(json.loads(bytes(response.body))["status"])
        except (ValueError, KeyError, TypeError):
            result = "answered"
    metrics.deliveries.labels(source, result).inc()
