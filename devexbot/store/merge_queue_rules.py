"""Which base branches take pull requests only through GitHub's merge queue, as GitHub's
rules last showed them, kept per repository and branch so every replica shares them and a
card's render never asks GitHub.

The card lookups read a pull request's base branch's rules when they are missing or older
than the TTL; a click on "Add to merge queue" reads them again, and a Merge that GitHub
refuses for the queue's sake records it. When a branch's rule changes, the repository's
pull requests' cards are rendered again, so their button follows.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

import requests
from github import GithubException
from github.Repository import Repository
from sqlalchemy import Boolean, String, Text, UniqueConstraint, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from devexbot.clients.github import GitHubApi
from devexbot.clients.merge_queue import branch_requires_queue, queue_required
from devexbot.store.cards import render_pull_cards_again
from devexbot.store.engine import Database
from devexbot.store.models import Base, UTCDateTime, utcnow
from devexbot.store.upsert import insert_for

log = logging.getLogger(__name__)

DEFAULT_TTL = timedelta(minutes=10)
RETRY_AFTER_ERROR = timedelta(seconds=60)


class BranchQueueRuleRow(Base):
    """Whether a branch's active rules include `merge_queue`, as GitHub last showed them."""

    __tablename__ = "branch_queue_rules"
    __table_args__ = (UniqueConstraint("repo", "branch", name="uq_branch_queue_rules_repo_branch"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    repo: Mapped[str] = mapped_column(String(200))  # owner/name, lower case
    branch: Mapped[str] = mapped_column(String(255))
    required: Mapped[bool | None] = mapped_column(Boolean)  # None: never read
    fetched_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # last good answer
    checked_at: Mapped[datetime] = mapped_column(UTCDateTime)  # last try
    error: Mapped[str | None] = mapped_column(Text)


class QueueRules:
    """The kept rules, with GitHub behind them."""

    def __init__(self, db: Database, github: GitHubApi, *, ttl: timedelta = DEFAULT_TTL,
                 clock: Callable[[], datetime] = utcnow) -> None:
        self.db, self.github, self.ttl, self.clock = db, github, ttl, clock

    def branches(self, repo: str) -> frozenset[str]:
        """The branches of `repo` that take pull requests only through the queue, as last
        read. Never asks GitHub."""
        with self.db.read() as session:
            return frozenset(session.scalars(
                select(BranchQueueRuleRow.branch)
                .where(BranchQueueRuleRow.repo == repo.lower(),
                       BranchQueueRuleRow.required.is_(True))))

    def lookup(self, repo: str, branch: str) -> bool:
        """Read the branch's rules from GitHub if the kept answer is missing or older than
        the TTL; False when GitHub could not say for now and nothing older stands (ask
        again after a minute). The last answer stays through GitHub's errors."""
        now = self.clock()
        with self.db.read() as session:
            row = self._row(session, repo, branch)
            if row is not None:
                if row.error is not None and row.checked_at + RETRY_AFTER_ERROR > now:
                    return row.fetched_at is not None
                if row.error is None and row.fetched_at is not None \
                        and row.fetched_at + self.ttl > now:
                    return True
        try:
            # The rules' own URL, without reading the repository first.
            required = branch_requires_queue(self.github.client_for(repo).requester,
                                             f"/repos/{repo}", branch)
        except (GithubException, requests.RequestException) as exc:
            log.info("cannot read the rules of %s %s: %s", repo, branch, exc)
            self._store(repo, branch, error=str(exc)[:500] or type(exc).__name__)
            # Not found (no access) is an answer: asking again in a minute would not change it.
            return isinstance(exc, GithubException) and exc.status == 404
        self.record(repo, branch, required)
        return True

    def read(self, repository: Repository, branch: str) -> bool:
        """The branch's rules as GitHub has them now (a click), recorded."""
        required = queue_required(repository, branch)
        self.record(repository.full_name, branch, required)
        return required

    def record(self, repo: str, branch: str, required: bool) -> None:
        """What GitHub showed just now; the pull requests' cards follow a change."""
        self._store(repo, branch, required=required)

    def _store(self, repo: str, branch: str, *, required: bool | None = None,
               error: str | None = None) -> None:
        now, key = self.clock(), repo.lower()
        values: dict[str, object] = {"checked_at": now, "error": error}
        if error is None:
            values.update(required=required, fetched_at=now)
        with self.db.write() as session:
            before = self._row(session, key, branch)
            was = before.required if before is not None else None
            stmt = insert_for(session, BranchQueueRuleRow).values(repo=key, branch=branch,
                                                                   **values)
            session.execute(stmt.on_conflict_do_update(index_elements=["repo", "branch"],
                                                       set_=values))
            if error is None and bool(was) != bool(required):
                render_pull_cards_again(session, key, now)

    @staticmethod
    def _row(session: Session, repo: str, branch: str) -> BranchQueueRuleRow | None:
        return session.scalar(select(BranchQueueRuleRow).where(
            BranchQueueRuleRow.repo == repo.lower(), BranchQueueRuleRow.branch == branch))
