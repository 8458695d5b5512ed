"""GitHub team membership, for principals named `github-team:<org>/<slug>`."""

from __future__ import annotations

import threading
import time

from github import GithubException

from devexbot.clients.github import GitHubApi, GitHubNotConfigured
from devexbot.errors import DevexbotError

TEAM_TTL = 300.0  # membership may change; five minutes stale at most
FAILURE_TTL = 10.0  # one listing of many runbooks asks a failing GitHub once, not per line


class GitHubTeams:
    def __init__(self, github: GitHubApi) -> None:
        self._github = github
        self._lock = threading.Lock()
        self._members: dict[tuple[str, str], tuple[frozenset[str], float]] = {}
        self._failed: dict[tuple[str, str], tuple[DevexbotError, float]] = {}

    def is_member(self, login: str, team: str) -> bool:
        """Is `login` in `team` (`org/slug`)? Asked with the credentials of the team's
        organisation (a GitHub App installation is per organisation). DevexbotError when
        GitHub cannot say."""
        org, slug = team.split("/", 1)
        return login.casefold() in self._team_members(org, slug)

    def _team_members(self, org: str, slug: str) -> frozenset[str]:
        key = (org.casefold(), slug.casefold())
        with self._lock:
            cached = self._members.get(key)
            if cached and cached[1] > time.monotonic():
                return cached[0]
            failed = self._failed.get(key)
            if failed and failed[1] > time.monotonic():
                raise failed[0]
        github = self._github
        if not github.configured:
            raise GitHubNotConfigured()
        try:
            team = github.client_for_org(org).get_organization(org).get_team_by_slug(slug)
            members = frozenset(m.login.casefold() for m in team.get_members())
        except GithubException as exc:
            error = DevexbotError(
                f"GitHub shows the bot no team {org}/{slug} (check its name, and that the "
                "bot's GitHub credentials may read the organisation's members)"
                if exc.status == 404 else
                f"GitHub did not say who is in {org}/{slug} (it answered {exc.status})")
            with self._lock:  # remembered briefly: the next click asks again
                self._failed[key] = (error, time.monotonic() + FAILURE_TTL)
            raise error from None
        with self._lock:
            self._members[key] = (members, time.monotonic() + TEAM_TTL)
            self._failed.pop(key, None)
        return members
