"""A Slack user's time zone (`users.info`'s `tz`), for their quiet hours."""

from __future__ import annotations

import logging

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from devexbot.slack.errors import error_code

log = logging.getLogger(__name__)


class TimeZones:
    def __init__(self, client: WebClient) -> None:
        self._client = client

    def of(self, user: str) -> str | None:
        """The user's IANA time zone (`Europe/Paris`); None when Slack does not say."""
        try:
            tz = self._client.users_info(user=user)["user"].get("tz")
        except SlackApiError as exc:
            log.warning("users.info failed for %s: %s", user, error_code(exc))
            return None
        except OSError as exc:
            log.warning("users.info failed for %s: %s", user, exc)
            return None
        return tz if isinstance(tz, str) and tz else None
