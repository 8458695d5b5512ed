"""Channel names to channel IDs, for the methods that take IDs only.

`chat.postMessage` takes `#deploys`, but `conversations.history` (how the outbox finds a
post that may have landed before a crash) and `conversations.join` take IDs only, and
Slack answers with the ID: pacing and the card's row must know a channel by one key.
Routes may name a channel, so names are looked up once in `conversations.list`.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from devexbot.slack.errors import error_code, is_transient

log = logging.getLogger(__name__)

CHANNEL_ID = re.compile(r"^[CGD][A-Z0-9]{2,}$")
USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")  # posting to a user opens a DM
RELOOK_AFTER = 300.0  # seconds before a name not found is looked up again
PAGE = 999  # Slack's reference says "under 1000" in one place, "no larger than 1000" in another


def is_id(channel: str) -> bool:
    """Whether `channel` is a conversation or user ID rather than a name."""
    return bool(CHANNEL_ID.match(channel) or USER_ID.match(channel))


class ChannelDirectory:
    """Names to IDs from `conversations.list`, cached in memory for the process's life."""

    def __init__(self, client: WebClient, *, relook_after: float = RELOOK_AFTER,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._client = client
        self._relook_after = relook_after
        self._clock = clock
        self._ids: dict[str, str] = {}
        self._listed_at: float | None = None
        self._refused = False
        self._lock = threading.Lock()

    def id_of(self, channel: str) -> str:
        """The ID of `channel` (an ID, `#name` or name); a name Slack does not list is
        returned as given. Raises `SlackApiError` when `conversations.list` gets a 429 or
        a 5xx: the caller tries again later rather than act on a name."""
        if is_id(channel):
            return channel
        name = channel.removeprefix("#").lower()
        with self._lock:  # one listing at a time: the others wait for its answer
            if name not in self._ids and self._due():
                self._list()
            return self._ids.get(name, channel)

    def id_now(self, channel: str) -> str:
        """`id_of`, or `channel` as given when Slack cannot be asked right now (a 429, a
        5xx, no connection): for a caller that must go on, such as a runbook run's post."""
        try:
            return self.id_of(channel)
        except Exception as exc:  # whatever it was, the post itself will say more
            log.info("cannot look up channel %s now (%s): using it as named", channel,
                     error_code(exc) if isinstance(exc, SlackApiError) else type(exc).__name__)
            return channel

    def _due(self) -> bool:
        return self._listed_at is None or \
            self._clock() - self._listed_at >= self._relook_after

    def _list(self) -> None:
        ids: dict[str, str] = {}
        cursor = None
        try:
            while True:
                page = self._client.conversations_list(
                    types="public_channel,private_channel", exclude_archived=True,
                    limit=PAGE, cursor=cursor)
                listed: list[dict[str, Any]] = page.get("channels", [])
                ids.update((c["name"], c["id"]) for c in listed)
                cursor = (page.get("response_metadata") or {}).get("next_cursor")
                if not cursor:
                    break
        except SlackApiError as exc:
            if is_transient(exc):
                raise
            self._listed_at = self._clock()
            if not self._refused:
                self._refused = True
                log.warning("conversations.list refused (%s): channels named in routes are "
                            "used by name, and a post that may have landed before a crash "
                            "cannot be found", error_code(exc) or "no error code")
            return
        self._ids, self._listed_at, self._refused = ids, self._clock(), False
