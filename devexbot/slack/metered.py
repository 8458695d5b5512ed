"""A Slack WebClient that counts its calls and Slack's 429s in the bot's metrics."""

from __future__ import annotations

from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.web.slack_response import SlackResponse

from devexbot.http.metrics import Metrics
from devexbot.slack.errors import error_code


class MeteredWebClient(WebClient):
    """Every Web API method goes through `api_call`, so counting there sees them all."""

    def __init__(self, *, metrics: Metrics, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.metrics = metrics

    def api_call(self, api_method: str, **kwargs: Any) -> SlackResponse:
        try:
            response = super().api_call(api_method, **kwargs)
        except SlackApiError as exc:
            if exc.response.status_code == 429:
                self.metrics.slack_rate_limited.labels(api_method).inc()
            self.metrics.slack_calls.labels(api_method, error_code(exc) or "http_error").inc()
            raise
        except Exception:
            self.metrics.slack_calls.labels(api_method, "unreachable").inc()
            raise
        self.metrics.slack_calls.labels(api_method, "ok").inc()
        return response
