"""Who wrote a commit, as GitHub says (`GET /repos/{owner}/{repo}/commits/{sha}`,
`author.login`): asked when a card made only from deploy events names no author.

Asked in the click's work, after Slack has its acknowledgement (a click's work may take as
long as GitHub does), and only for the cards that need it, rather than by the card lookups
for every deploy. Who wrote a commit never changes, so an answer is kept; a failure is not,
and the next click asks again.
"""

from __future__ import annotations

import threading

from github import GithubException

from devexbot.clients.github import GitHubApi
from devexbot.errors import DevexbotError

MAX_KEPT = 2048  # commits whose authors are kept; the oldest answer goes first


class CommitAuthors:
    def __init__(self, github: GitHubApi) -> None:
        self._github = github
        self._lock = threading.Lock()
        self._kept: dict[tuple[str, str], str | None] = {}

    @property
    def configured(self) -> bool:
        return self._github.configured

    def login(self, repo: str, sha: str) -> str | None:
        """The GitHub login of the commit's author; None when GitHub links the commit to
        no account, or the bot has no GitHub credentials. Raises if GitHub cannot say now."""
        key = (repo.casefold(), sha)
        with self._lock:
            if key in self._kept:
                return self._kept[key]
        if not self._github.configured:
            return None
        try:
            author = self._github.repo(repo).get_commit(sha).author
            login = author.login if author is not None else None
        except GithubException as exc:
            if exc.status in (404, 422):  # GitHub does not know the commit (yet): nobody
                return None
            raise DevexbotError(f"could not ask GitHub who wrote {sha[:7]} (GitHub answered "
                                f"{exc.status}): click again in a moment") from None
        with self._lock:
            if len(self._kept) >= MAX_KEPT:
                del self._kept[next(iter(self._kept))]
            self._kept[key] = login
        return login
