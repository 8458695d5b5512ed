"""A Slack WebClient that counts its calls and Slack's 429s in the bot's metrics, traces
each call (its method and channel; never a message's text, nor the token), and tells the
readiness whether Slack took them."""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.web.slack_response import SlackResponse

from devexbot.health.readiness import Readiness
from devexbot.http.metrics import Metrics
from devexbot.slack.errors import error_code, slack_unusable
from devexbot.tracing import NULL_TRACER, Span, Tracer

_SDK_LOG = "devexbot.slack.sdk"


class MeteredWebClient(WebClient):
    """Every Web API method goes through `api_call`, so counting there sees them all."""

    def __init__(self, *, metrics: Metrics, tracer: Tracer = NULL_TRACER,
                 readiness: Readiness | None = None, **kwargs: Any) -> None:
        # slack_sdk logs every failed attempt and its retry at ERROR; the bot says itself,
        # in one line, what failed and when it tries again.
        sdk_log = logging.getLogger(_SDK_LOG)
        sdk_log.setLevel(logging.CRITICAL)
        super().__init__(logger=sdk_log, **kwargs)
        self.metrics = metrics
        self.tracer = tracer
        self.readiness = readiness

    def api_call(self, api_method: str, **kwargs: Any) -> SlackResponse:
        with self.tracer.span(api_method, kind="client",
                              attributes=_attributes(api_method, kwargs)) as span:
            return self._call(span, api_method, **kwargs)

    def _call(self, span: Span, api_method: str, **kwargs: Any) -> SlackResponse:
        try:
            response = super().api_call(api_method, **kwargs)
        except SlackApiError as exc:
            if exc.response.status_code == 429:
                self.metrics.slack_rate_limited.labels(api_method).inc()
            code = error_code(exc) or "http_error"
            span.set_attribute("slack.error", code)
            span.set_attribute("http.response.status_code", exc.response.status_code)
            self.metrics.slack_calls.labels(api_method, code).inc()
            self._saw(exc)
            raise
        except Exception as exc:
            self.metrics.slack_calls.labels(api_method, "unreachable").inc()
            self._saw(exc)
            raise
        span.set_attribute("http.response.status_code", response.status_code)
        self.metrics.slack_calls.labels(api_method, "ok").inc()
        if self.readiness is not None:
            self.readiness.up("slack")
        return response

    def _saw(self, exc: Exception) -> None:
        if self.readiness is None:
            return
        unusable = slack_unusable(exc)
        if unusable is None:
            self.readiness.up("slack")  # Slack answered; it refused this one call
        else:
            self.readiness.down("slack", unusable)


def _attributes(api_method: str, kwargs: dict[str, Any]) -> dict[str, str]:
    """The call's method, and its channel wherever the method carries it."""
    found = {"rpc.system": "slack", "rpc.method": api_method}
    for part in ("json", "params", "data"):
        sent = kwargs.get(part)
        channel = sent.get("channel") if isinstance(sent, dict) else None
        if isinstance(channel, str):
            found["slack.channel"] = channel
            break
    return found
