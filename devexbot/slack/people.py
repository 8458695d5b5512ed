"""GitHub identities to Slack users: the config's `people:` map, then `users.lookupByEmail`."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping

from slack_sdk.errors import SlackApiError

from devexbot.config import Person
from devexbot.slack.directory import SlackDirectory

log = logging.getLogger(__name__)

LOOKUP_TTL = 6 * 3600.0  # a directory changes rarely; a miss is retried after this too


class People:
    def __init__(self, people: Mapping[str, Person], directory: SlackDirectory) -> None:
        self._by_login = {login.lower(): p.slack for login, p in people.items()}
        self._by_email = {p.email.lower(): p.slack for p in people.values() if p.email}
        self._login_of = {p.slack: login for login, p in people.items()}
        self._directory = directory
        self._cache: dict[str, tuple[str | None, float]] = {}
        self._lock = threading.Lock()

    def github_login(self, slack_id: str) -> str | None:
        """The GitHub login the config's `people:` map gives this Slack user, if any."""
        return self._login_of.get(slack_id)

    def slack_id(self, *, login: str | None = None, email: str | None = None) -> str | None:
        """The person's Slack user id, or None when nobody knows them."""
        if login and login.lower() in self._by_login:
            return self._by_login[login.lower()]
        if not email:
            return None
        email = email.lower()
        if email in self._by_email:
            return self._by_email[email]
        if email.endswith("@users.noreply.github.com"):
            return None  # GitHub's private address: no directory knows it
        return self._lookup(email)

    def _lookup(self, email: str) -> str | None:
        with self._lock:
            cached = self._cache.get(email)
            if cached and cached[1] > time.monotonic():
                return cached[0]
        try:
            user_id = self._directory.user_id_by_email(email)
        except SlackApiError as exc:
            if exc.response.get("error") != "users_not_found":
                log.warning("users.lookupByEmail failed: %s", exc.response.get("error"))
                return None  # not cached: a transient failure is retried next time
            user_id = None
        with self._lock:
            self._cache[email] = (user_id, time.monotonic() + LOOKUP_TTL)
        return user_id
