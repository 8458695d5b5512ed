"""How to read a refusal from Slack's Web API."""

from __future__ import annotations

from slack_sdk.errors import SlackApiError

from devexbot.health.reasons import failure_reason


def is_transient(exc: SlackApiError) -> bool:
    """A 429 or a 5xx: Slack may well say yes later, so the answer says nothing yet."""
    status: int = exc.response.status_code
    return status == 429 or status >= 500


def error_code(exc: SlackApiError) -> str | None:
    """Slack's `error` field, if the answer had a JSON body."""
    response = exc.response
    error = response.get("error") if isinstance(response.data, dict) else None
    return str(error) if error else None


# What Slack answers when it will not take the bot's token at all, whatever the method.
_TOKEN_REFUSED = {"invalid_auth", "not_authed", "account_inactive", "token_revoked",
                  "token_expired", "not_allowed_token_type", "team_access_not_granted"}
_SLACK_TROUBLE = {"fatal_error", "internal_error", "service_unavailable", "request_timeout"}


def slack_unusable(exc: Exception) -> str | None:
    """Why no call to Slack can work now, in one line (the token is refused, Slack is
    unreachable or failing); None when the failure is about this one call."""
    if not isinstance(exc, SlackApiError):
        return failure_reason(exc)
    code = error_code(exc)
    if code in _TOKEN_REFUSED:
        return f"the bot token is refused ({code}): check SLACK_BOT_TOKEN"
    status: int = exc.response.status_code
    if status >= 500 or code in _SLACK_TROUBLE:
        return f"it answers HTTP {status}" + (f" ({code})" if code else "")
    return None
