"""The options of a pull request card's menus: the repo's collaborators and teams, or its
labels, as GitHub lists them, filtered by what the user has typed.

Slack asks again at every pause in typing and wants the answer within 3 seconds, so each
repo's lists are loaded once a minute, in a worker, and filtered here; a GitHub slower
than `wait` answers an empty list this time and fills the cache for the next keystroke.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from itertools import islice
from typing import Any

from github import GithubException

from correlation.mrkdwn import clip
from devexbot.actions.pr_selects import MAX_OPTION_VALUE, Reviewer
from devexbot.clients.github import GitHubApi, GitHubNotConfigured

log = logging.getLogger(__name__)

MAX_OPTIONS = 100  # Slack shows at most 100 options
MAX_LOADED = 1000  # of each list: a bigger organisation types a few letters first
TTL = 60.0  # seconds a loaded list is used
WAIT = 2.0  # seconds to wait for GitHub inside Slack's 3


@dataclass(frozen=True)
class Choice:
    """One option: what the menu shows, what comes back when it is picked, what matches."""

    text: str
    value: str
    key: str  # login, team slug or label name, lower case (to leave some out)
    words: str  # lower case text the typed query is looked for in

    def option(self) -> dict[str, Any]:
        return {"text": {"type": "plain_text", "text": clip(self.text, 75), "emoji": True},
                "value": self.value}


def matching(choices: Iterable[Choice], typed: str, *, leave_out: Iterable[str] = (),
             limit: int = MAX_OPTIONS) -> list[Choice]:
    """The choices whose words contain what was typed, names starting with it first."""
    query = typed.strip().lstrip("@").casefold()
    skip = {name.casefold() for name in leave_out}
    hits = [c for c in choices if c.key not in skip and query in c.words]
    hits.sort(key=lambda c: not c.key.startswith(query))  # stable: alphabetical within
    return hits[:limit]


def reviewer_choices(github: GitHubApi, repo_name: str) -> list[Choice]:
    """The repo's collaborators (people with access through a team included), then its
    teams, each alphabetically."""
    repo = github.repo(repo_name)
    owner = repo_name.split("/", 1)[0]
    logins = sorted((user.login for user in islice(repo.get_collaborators(), MAX_LOADED)),
                    key=str.lower)
    choices = [Choice(f"@{login}", Reviewer(u=login).encode(), login.lower(), login.lower())
               for login in logins]
    try:
        teams = list(islice(repo.get_teams(), MAX_LOADED))
    except GithubException as exc:
        if exc.status not in (403, 404):  # a user's repo has no teams; a token may not see them
            raise
        teams = []
    choices += [
        Choice(f"@{owner}/{team.slug}", Reviewer(t=team.slug).encode(), team.slug.lower(),
               f"{team.slug} {team.name}".lower())
        for team in sorted(teams, key=lambda t: t.slug.lower())
    ]
    return [c for c in choices if len(c.value) <= MAX_OPTION_VALUE]


def label_choices(github: GitHubApi, repo_name: str) -> list[Choice]:
    repo = github.repo(repo_name)
    labels = sorted(islice(repo.get_labels(), MAX_LOADED), key=lambda found: found.name.lower())
    return [
        Choice(label.name, label.name, label.name.lower(),
               f"{label.name} {label.description or ''}".lower())
        for label in labels
        if len(label.name) <= MAX_OPTION_VALUE
    ]


Loader = Callable[[GitHubApi, str], list[Choice]]


class RepoChoices:
    """Per-repo lists, loaded in the background and kept for `ttl` seconds."""

    def __init__(self, github: GitHubApi, *, ttl: float = TTL, wait: float = WAIT) -> None:
        self.github, self.ttl, self.wait = github, ttl, wait
        self._lock = threading.RLock()  # a future done at once calls back under it
        self._loaded: dict[tuple[str, str], tuple[float, list[Choice]]] = {}
        self._loading: dict[tuple[str, str], Future[list[Choice]]] = {}
        self._pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="repo-choices")

    def reviewers(self, repo: str) -> list[Choice]:
        return self._get("reviewers", repo, reviewer_choices)

    def labels(self, repo: str) -> list[Choice]:
        return self._get("labels", repo, label_choices)

    def _get(self, kind: str, repo: str, loader: Loader) -> list[Choice]:
        github = self.github
        if not github.configured:
            raise GitHubNotConfigured()
        key = (kind, repo.lower())
        with self._lock:
            loaded = self._loaded.get(key)
            if loaded and loaded[0] > time.monotonic():
                return loaded[1]
            future = self._loading.get(key)
            if future is None:
                future = self._loading[key] = self._pool.submit(loader, github, repo)
                future.add_done_callback(lambda done: self._keep(key, done))
        try:
            return future.result(timeout=self.wait)
        except FutureTimeout:
            log.warning("GitHub took over %.1fs to list the %s of %s; answering Slack with "
                        "what is cached", self.wait, kind, repo)
            return loaded[1] if loaded else []

    def _keep(self, key: tuple[str, str], done: Future[list[Choice]]) -> None:
        with self._lock:
            self._loading.pop(key, None)
            if done.exception() is None:
                self._loaded[key] = (time.monotonic() + self.ttl, done.result())
