"""What lies between two commits, from GitHub's compare API, kept in the database: the
commits between two SHAs never change, so each pair is asked about once.

Used to tell what a deploy would bring over what is live (`deploy_contents`) and whether
an environment runs a commit or a later one (`/devex where <sha>`).
"""

from __future__ import annotations

import itertools
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from github import GithubException
from github.Repository import Repository
from sqlalchemy import select, update

from devexbot.clients.github import GitHubApi
from devexbot.store import CommitRange, Database
from devexbot.store.models import utcnow
from devexbot.store.upsert import insert_for

log = logging.getLogger(__name__)

MAX_COMMITS = 100  # kept per range; a deploy of more says "+N more"
MAX_PULL_LOOKUPS = 25  # commits asked about their pull requests, newest first
MAX_MESSAGE = 2000
MAX_PULL_BODY = 2000
_MERGE = re.compile(r"^Merge pull request #(?P<number>[0-9]+)\b[^\n]*(?:\n+(?P<title>[^\n]+))?")
_SQUASH = re.compile(r"^(?P<title>[^\n]+?)\s*\(#(?P<number>[0-9]+)\)\s*(?:\n|$)")


@dataclass(frozen=True)
class Range:
    """Head compared with base: `ahead` means head contains base and `ahead_by` more."""

    status: str  # ahead | behind | identical | diverged
    ahead_by: int
    behind_by: int
    commits: list[dict[str, Any]] = field(default_factory=list)  # oldest first

    @property
    def contains_base(self) -> bool:
        return self.status in ("ahead", "identical")


def pull_of_message(message: str) -> tuple[int, str | None] | None:
    """The pull request a merge or squash commit's message names, with its title."""
    if match := _MERGE.match(message):
        return int(match["number"]), match["title"]
    if match := _SQUASH.match(message):
        return int(match["number"]), match["title"]
    return None


class CommitRanges:
    def __init__(self, db: Database, github: GitHubApi, *,
                 clock: Callable[[], datetime] = utcnow) -> None:
        self.db, self.github, self.clock = db, github, clock

    @property
    def available(self) -> bool:
        return self.github.configured

    def stored(self, repo: str, base: str, head: str) -> Range | None:
        """The range as kept with its commits' pull requests, never asking GitHub; None
        until a lookup kept it."""
        with self.db.read() as session:
            row = session.scalar(select(CommitRange).where(
                CommitRange.repo == repo, CommitRange.base == base, CommitRange.head == head,
                CommitRange.pulls_resolved.is_(True)))
            return _range(row) if row is not None else None

    def get(self, repo: str, base: str, head: str, *, pulls: bool = False) -> Range | None:
        """The range, from the database or GitHub; None when GitHub cannot say. With
        `pulls`, its commits know their pull requests."""
        with self.db.read() as session:
            row = session.scalar(select(CommitRange).where(
                CommitRange.repo == repo, CommitRange.base == base, CommitRange.head == head))
            kept = _range(row) if row is not None else None
            resolved = bool(row is not None and row.pulls_resolved)
        if kept is not None and (resolved or not pulls):
            return kept
        if not self.available:
            return kept
        try:
            gh_repo = self.github.repo(repo)
            if kept is None:
                kept = self._compare(gh_repo, base, head)
            if pulls:
                self._resolve_pulls(gh_repo, kept)
        except GithubException as exc:
            log.info("GitHub cannot compare %s %s...%s: %s", repo, base[:7], head[:7],
                     exc.status)
            return kept if kept is not None and not pulls else None
        except Exception:
            log.exception("comparing %s %s...%s failed", repo, base[:7], head[:7])
            return None
        self._store(repo, base, head, kept, pulls_resolved=pulls)
        return kept

    def _compare(self, gh_repo: Repository, base: str, head: str) -> Range:
        comparison = gh_repo.compare(base, head)
        status = comparison.status
        commits = [
            {"sha": c.sha, "message": (c.commit.message or "")[:MAX_MESSAGE],
             "at": _committed(c.commit)}  # when it was written, for the delivery metrics
            for c in itertools.islice(comparison.commits, MAX_COMMITS)
        ] if comparison.ahead_by else []
        return Range(status=status, ahead_by=comparison.ahead_by,
                     behind_by=comparison.behind_by, commits=commits)

    def _resolve_pulls(self, gh_repo: Repository, found: Range) -> None:
        """Each commit's pull requests: named by a merge or squash message, else asked
        about (the newest commits first, up to MAX_PULL_LOOKUPS)."""
        web = gh_repo.html_url
        lookups = 0
        for commit in reversed(found.commits):
            if "pulls" in commit:
                continue
            named = pull_of_message(commit["message"])
            if named is not None:
                number, title = named
                commit["pulls"] = [{"number": number, "title": title,
                                    "url": f"{web}/pull/{number}"}]
                continue
            if lookups >= MAX_PULL_LOOKUPS:
                continue
            lookups += 1
            commit["pulls"] = [
                {"number": p.number, "title": p.title, "url": p.html_url,
                 "body": (p.body or "")[:MAX_PULL_BODY] or None}
                for p in gh_repo.get_commit(commit["sha"]).get_pulls()
            ]

    def _store(self, repo: str, base: str, head: str, found: Range, *,
               pulls_resolved: bool) -> None:
        values = {"status": found.status, "ahead_by": found.ahead_by,
                  "behind_by": found.behind_by, "commits": found.commits,
                  "fetched_at": self.clock()}
        with self.db.write() as session:
            stmt = insert_for(session, CommitRange).values(
                repo=repo, base=base, head=head, pulls_resolved=pulls_resolved, **values)
            session.execute(stmt.on_conflict_do_nothing(index_elements=["repo", "base", "head"]))
            if pulls_resolved:
                session.execute(update(CommitRange).where(
                    CommitRange.repo == repo, CommitRange.base == base, CommitRange.head == head,
                ).values(pulls_resolved=True, commits=found.commits))


def _committed(commit: Any) -> str | None:
    committer = commit.committer
    date = committer.date if committer is not None else None
    return date.isoformat() if isinstance(date, datetime) else None


def _range(row: CommitRange) -> Range:
    return Range(status=row.status, ahead_by=row.ahead_by, behind_by=row.behind_by,
                 commits=[dict(c) for c in row.commits or ()])
