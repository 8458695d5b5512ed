"""GitHub identities to Slack users: the config's `people:` map, then `users.lookupByEmail`;
and Slack users' names for pages read outside Slack (`users.info`, cached)."""

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
FAILED_LOOKUP_TTL = 60.0  # Slack failing: pages go on without names for a minute, not wait


class People:
    def __init__(self, people: Mapping[str, Person], directory: SlackDirectory) -> None:
        self._by_login = {login.lower(): p.slack for login, p in people.items()}
        self._by_email = {p.email.lower(): p.slack for p in people.values() if p.email}
        self._login_of = {p.slack: login for login, p in people.items()}
        self._directory = directory
        self._cache: dict[str, tuple[str | None, float]] = {}
        self._names: dict[str, tuple[str | None, float]] = {}
        self._lock = threading.Lock()

    def github_login(self, slack_id: str) -> str | None:
        """The GitHub login the config's `people:` map gives this Slack user, if any."""
        return self._login_of.get(slack_id)

    def name(self, slack_id: str) -> str | None:
        """What people call this Slack user (their Slack name, else the GitHub login the
        `people:` map gives them), or None. Slack is asked once per user and `LOOKUP_TTL`;
        while it fails, once a minute."""
        with self._lock:
            cached = self._names.get(slack_id)
        if cached is None or cached[1] <= time.monotonic():
            ttl = LOOKUP_TTL
            try:
                found = self._directory.user_name(slack_id)
            except SlackApiError as exc:
                found = None
                if exc.response.get("error") != "user_not_found":
                    log.warning("users.info failed: %s", exc.response.get("error"))
                    ttl = FAILED_LOOKUP_TTL
            except OSError as exc:
                log.warning("users.info failed: %s", exc)
                found, ttl = None, FAILED_LOOKUP_TTL
            cached = (found, time.monotonic() + ttl)
            with self._lock:
                self._names[slack_id] = cached
        return cached[0] or self.github_login(slack_id)

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
