"""GitHub team membership, for approvers named `github-team:<org>/<slug>`."""

from __future__ import annotations

import threading
import time

from github import GithubException

from devexbot.clients.github import GitHubApi, GitHubNotConfigured
from devexbot.errors import DevexbotError

TEAM_TTL = 300.0  # membership may change; five minutes stale at most


class GitHubTeams:
    def __init__(self, github: GitHubApi) -> None:
        self._github = github
        self._lock = threading.Lock()
        self._members: dict[tuple[str, str], tuple[frozenset[str], float]] = {}

    def is_member(self, login: str, team: str, *, repo: str) -> bool:
        """Is `login` in `team` (`org/slug`)? Asked with the credentials that serve `repo`
        (a GitHub App installation is per owner)."""
        org, slug = team.split("/", 1)
        return login.casefold() in self._team_members(org, slug, repo)

    def _team_members(self, org: str, slug: str, repo: str) -> frozenset[str]:
        key = (org.casefold(), slug.casefold())
        with self._lock:
            cached = self._members.get(key)
            if cached and cached[1] > time.monotonic():
                return cached[0]
        github = self._github
        if not github.configured:
            raise GitHubNotConfigured()
        try:
            team = github.client_for(repo).get_organization(org).get_team_by_slug(slug)
            members = frozenset(m.login.casefold() for m in team.get_members())
        except GithubException as exc:
            # Not cached: a transient failure is retried on the next click.
            raise DevexbotError(f"could not read the members of GitHub team {org}/{slug} "
                                f"(GitHub answered {exc.status})") from None
        with self._lock:
            self._members[key] = (members, time.monotonic() + TEAM_TTL)
        return members
