"""Who may do what: the config's principals against the person acting, decided here for
every kind (everyone, Slack users and user groups, GitHub users and teams) and for every
use (permissions, runbooks, approvers)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass

from slack_sdk.errors import SlackApiError

from correlation.principals import Principal, PrincipalKind, parse_principal
from devexbot.clients.github_teams import GitHubTeams
from devexbot.errors import DevexbotError
from devexbot.slack.directory import SlackDirectory
from devexbot.slack.people import People

log = logging.getLogger(__name__)

GROUP_TTL = 300.0  # membership may change; five minutes stale at most


@dataclass(frozen=True)
class Access:
    """Whether a person may act; `why_not` says more than "not listed" when there is more
    to say (GitHub's answer, or a login nobody maps), as a sentence without its period."""

    allowed: bool
    why_not: str | None = None


ALLOWED = Access(True)


class Authorizer:
    def __init__(self, directory: SlackDirectory, people: People, teams: GitHubTeams) -> None:
        self._directory, self._people, self._teams = directory, people, teams
        self._lock = threading.Lock()
        self._members: dict[str, tuple[frozenset[str], float]] = {}
        self._handles: tuple[dict[str, str], float] = ({}, 0.0)

    def allows(self, user_id: str, principals: Iterable[str]) -> bool:
        """True if the user is one of the principals (or in one of their groups or teams)."""
        return self.check(user_id, principals).allowed

    def check(self, user_id: str, principals: Iterable[str]) -> Access:
        """Whether the user is one of the principals, and if not, what more to tell them.
        Cheap checks first: the Slack user groups and GitHub teams are asked last."""
        parsed = [p for p in map(_parse, principals) if p is not None]
        for principal in parsed:
            if principal.kind is PrincipalKind.EVERYONE or (
                    principal.kind is PrincipalKind.SLACK_USER and principal.name == user_id):
                return ALLOWED
        github = [p for p in parsed if p.kind.on_github]
        login = self._people.github_login(user_id) if github else None
        if login is not None and any(p.kind is PrincipalKind.GITHUB_USER
                                     and p.name.casefold() == login.casefold() for p in github):
            return ALLOWED
        for principal in parsed:
            group = self._group_id(principal)
            if group and user_id in self._group_members(group):
                return ALLOWED
        if not github:
            return Access(False)
        teams = [p.name for p in github if p.kind is PrincipalKind.GITHUB_TEAM]
        if login is None:
            what = "GitHub teams" if teams else "GitHub users"
            return Access(False, f"{what} count through the `people:` map, which does not "
                                 "give your GitHub login")
        return self._in_team(login, teams)

    def _in_team(self, login: str, teams: list[str]) -> Access:
        unanswered = []
        for team in teams:
            try:
                if self._teams.is_member(login, team):
                    return ALLOWED
            except DevexbotError as exc:  # fail closed, and say why
                unanswered.append(exc.message)
        if unanswered:
            return Access(False, unanswered[0])
        if not teams:
            return Access(False)
        if len(teams) == 1:
            return Access(False, f"GitHub says {login} is not in {teams[0]}")
        return Access(False, f"GitHub says {login} is in none of {', '.join(teams)}")

    def _group_id(self, principal: Principal) -> str | None:
        if principal.kind is PrincipalKind.SLACK_GROUP:
            return principal.name
        if principal.kind is not PrincipalKind.SLACK_HANDLE:
            return None
        handles, expires = self._handles
        if expires < time.monotonic():
            try:
                handles = self._directory.usergroup_ids()
                self._handles = (handles, time.monotonic() + GROUP_TTL)
            except SlackApiError as exc:
                log.warning("usergroups.list failed: %s", exc.response.get("error"))
        return handles.get(principal.name)

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


def _parse(text: str) -> Principal | None:
    try:
        return parse_principal(text)
    except ValueError:  # the config check refuses these; never a match
        log.warning("ignoring %r: not a principal", text)
        return None
