"""Who may do what: principals from the config (`*`, user ids, user groups) against a user."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable

from slack_sdk.errors import SlackApiError

from devexbot.slack.directory import SlackDirectory

log = logging.getLogger(__name__)

GROUP_TTL = 300.0  # membership may change; five minutes stale at most


class Authorizer:
    def __init__(self, directory: SlackDirectory) -> None:
        self._directory = directory
        self._lock = threading.Lock()
        self._members: dict[str, tuple[frozenset[str], float]] = {}
        self._handles: tuple[dict[str, str], float] = ({}, 0.0)

    def allows(self, user_id: str, principals: Iterable[str]) -> bool:
        """True if the user is one of the principals or in one of their user groups."""
        for principal in principals:
            if principal in ("*", user_id):
                return True
            group = self._group_id(principal)
            if group and user_id in self._group_members(group):
                return True
        return False

    def _group_id(self, principal: str) -> str | None:
        if principal.startswith("S"):
            return principal
        if not principal.startswith("@"):
            return None
        handles, expires = self._handles
        if expires < time.monotonic():
            try:
                handles = self._directory.usergroup_ids()
                self._handles = (handles, time.monotonic() + GROUP_TTL)
            except SlackApiError as exc:
                log.warning("usergroups.list failed: %s", exc.response.get("error"))
        return handles.get(principal[1:])

    def _group_members(self, group: str) -> frozenset[str]:
        with self._lock:
            cached = self._members.get(group)
            if cached and cached[1] > time.monotonic():
                return cached[0]
        try:
            members = self._directory.usergroup_members(group)
        except SlackApiError as exc:
            log.warning("usergroups.users.list %s failed: %s", group, exc.response.get("error"))
            return frozenset()  # fail closed, uncached: retried on the next check
        with self._lock:
            self._members[group] = (members, time.monotonic() + GROUP_TTL)
        return members
