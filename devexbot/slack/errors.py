"""How to read a refusal from Slack's Web API."""

from __future__ import annotations

from slack_sdk.errors import SlackApiError


def is_transient(exc: SlackApiError) -> bool:
    """A 429 or a 5xx: Slack may well say yes later, so the answer says nothing yet."""
    status: int = exc.response.status_code
    return status == 429 or status >= 500


def error_code(exc: SlackApiError) -> str | None:
    """Slack's `error` field, if the answer had a JSON body."""
    response = exc.response
    error = response.get("error") if isinstance(response.data, dict) else None
    return str(error) if error else None
