"""The webhook routes' route class: each delivery is timed and counted by source and result,
and traced (the request's span, which verify, parse, store and fold are children of)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute

from devexbot.errors import DevexbotError
from devexbot.http.metrics import Metrics
from devexbot.tracing import Span, Tracer

# What a refusal is counted as; answered deliveries count as their ingest outcome.
_REFUSALS = {400: "invalid", 401: "unauthorized", 413: "too_large", 503: "not_configured"}


class MeteredRoute(APIRoute):
    """Observes `devexbot_ingest_seconds` and `devexbot_webhook_deliveries` per delivery."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()
        source = self.path.rstrip("/").rsplit("/", 1)[-1]

        async def metered(request: Request) -> Response:
            metrics: Metrics = request.app.state.metrics
            tracer: Tracer = request.app.state.tracer
            started = time.perf_counter()
            route = request.url.path  # this route's, with the prefix it was included under
            # A sender that traces (a deploy tool, say) has its trace go on here.
            with tracer.span(f"POST {route}", kind="server",
                             parent=request.headers.get("traceparent"),
                             attributes={"http.request.method": "POST", "http.route": route,
                                         "devexbot.delivery.source": source}) as span:
                try:
                    response = await handle(request)
                except DevexbotError as exc:
                    _count(metrics, span, source, exc.status_code, None)
                    raise
                except Exception:
                    _count(metrics, span, source, 500, None)
                    raise
                finally:
                    metrics.ingest_seconds.labels(source).observe(
                        time.perf_counter() - started)
                _count(metrics, span, source, response.status_code, response)
            return response

        return metered


def _count(metrics: Metrics, span: Span, source: str, status: int,
           response: Response | None) -> None:
    result = _REFUSALS.get(status) or ("error" if status >= 500 else f"http_{status}")
    if response is not None and status < 300:
        try:
            answer = json.loads(bytes(response.body))
            result = str(answer["status"])
            span.set_attribute("devexbot.delivery.id", str(answer.get("delivery")))
        except (ValueError, KeyError, TypeError, AttributeError):
            result = "answered"
    span.set_attribute("http.response.status_code", status)
    span.set_attribute("devexbot.delivery.result", result)
    metrics.deliveries.labels(source, result).inc()
