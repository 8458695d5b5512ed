"""Which ways of merging each repository allows, as GitHub last showed them, kept in the
database so every replica shares them and a card's render never asks GitHub.

The card lookups read a repository's settings when they are missing or older than the
TTL; a click on Merge records what its own read of the repository shows, and a method
GitHub refuses is off from then on. When what a repository allows changes, its pull
requests' cards are rendered again, so their Merge button follows.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta

import requests
from github import GithubException
from github.Repository import Repository
from sqlalchemy import Boolean, String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from correlation.merge_methods import RepoMergeSettings
from correlation.policies import MergeMethod
from devexbot.clients.github import GitHubApi
from devexbot.store.cards import render_pull_cards_again
from devexbot.store.engine import Database
from devexbot.store.merge_queue_rules import QueueRules
from devexbot.store.models import Base, UTCDateTime, utcnow
from devexbot.store.upsert import insert_for

log = logging.getLogger(__name__)

DEFAULT_TTL = timedelta(minutes=10)
RETRY_AFTER_ERROR = timedelta(seconds=60)
_COLUMNS: dict[MergeMethod, str] = {
    "merge": "allow_merge_commit", "squash": "allow_squash_merge",
    "rebase": "allow_rebase_merge"}


class RepoMergeSettingsRow(Base):
    """A repository's merge settings as GitHub last showed them (None: not shown to the
    bot's token), with what GitHub's refusals taught where it shows nothing."""

    __tablename__ = "repo_merge_settings"

    id: Mapped[int] = mapped_column(primary_key=True)
    repo: Mapped[str] = mapped_column(String(200), unique=True)  # owner/name, lower case
    allow_merge_commit: Mapped[bool | None] = mapped_column(Boolean)
    allow_squash_merge: Mapped[bool | None] = mapped_column(Boolean)
    allow_rebase_merge: Mapped[bool | None] = mapped_column(Boolean)
    fetched_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # last good answer
    checked_at: Mapped[datetime] = mapped_column(UTCDateTime)  # last try
    error: Mapped[str | None] = mapped_column(Text)


def settings_of(repository: Repository) -> RepoMergeSettings:
    """What PyGithub's repository shows of its merge settings."""
    return RepoMergeSettings(merge=repository.allow_merge_commit,
                             squash=repository.allow_squash_merge,
                             rebase=repository.allow_rebase_merge)


def _settings(row: RepoMergeSettingsRow) -> RepoMergeSettings:
    return RepoMergeSettings(merge=row.allow_merge_commit, squash=row.allow_squash_merge,
                             rebase=row.allow_rebase_merge)


class MergeSettings:
    """The kept settings, with GitHub behind them."""

    def __init__(self, db: Database, github: GitHubApi, *, queue_rules: QueueRules,
                 ttl: timedelta = DEFAULT_TTL,
                 clock: Callable[[], datetime] = utcnow) -> None:
        self.db, self.github, self.ttl, self.clock = db, github, ttl, clock
        self.queue_rules = queue_rules  # which branches take pull requests through the queue

    @property
    def available(self) -> bool:
        return self.github.configured

    def known(self, repo: str) -> RepoMergeSettings | None:
        """The settings and the merge queue's branches as last read, however old; None:
        neither read. Never asks GitHub."""
        with self.db.read() as session:
            row = self._row(session, repo)
            settings = _settings(row) if row is not None and row.fetched_at is not None \
                else None
        queued = self.queue_rules.branches(repo)
        if not queued:
            return settings
        return dataclasses.replace(settings or RepoMergeSettings(), queue_branches=queued)

    def lookup(self, repo: str) -> bool:
        """Read the settings from GitHub if the kept ones are missing or older than the
        TTL; False when GitHub could not say for now and nothing older stands (ask again
        after a minute). The last answer stays through GitHub's errors."""
        now = self.clock()
        with self.db.read() as session:
            row = self._row(session, repo)
            if row is not None:
                if row.error is not None and row.checked_at + RETRY_AFTER_ERROR > now:
                    return row.fetched_at is not None  # an older answer stands meanwhile
                if row.error is None and row.fetched_at is not None \
                        and row.fetched_at + self.ttl > now:
                    return True
        try:
            shown = settings_of(self.github.repo(repo))
        except (GithubException, requests.RequestException) as exc:
            log.info("cannot read the merge settings of %s: %s", repo, exc)
            self._store(repo, error=str(exc)[:500] or type(exc).__name__)
            # Not found (no access, or the App not installed there) is an answer: asking
            # again in a minute would not change it. The next news after the TTL will.
            return isinstance(exc, GithubException) and exc.status == 404
        self.record(repo, shown)
        return True

    def record(self, repo: str, shown: RepoMergeSettings) -> None:
        """What a read of the repository showed just now. Where it shows nothing, what
        GitHub's refusals taught stays."""
        before = self.known(repo)
        learned = before or RepoMergeSettings()
        values = {column: getattr(shown, method) if getattr(shown, method) is not None
                  else (False if getattr(learned, method) is False else None)
                  for method, column in _COLUMNS.items()}
        self._store(repo, allowed=values)

    def refused(self, repo: str, method: MergeMethod) -> None:
        """GitHub refused to merge by `method`: it is off until GitHub shows otherwise."""
        self._store(repo, allowed={_COLUMNS[method]: False})

    def _store(self, repo: str, *, allowed: Mapping[str, bool | None] | None = None,
               error: str | None = None) -> None:
        now, key = self.clock(), repo.lower()
        values: dict[str, object] = {"checked_at": now, "error": error}
        if error is None:
            values.update(allowed or {}, fetched_at=now)
        with self.db.write() as session:
            before = self._row(session, key)
            was = _settings(before) if before is not None and before.fetched_at else None
            stmt = insert_for(session, RepoMergeSettingsRow).values(repo=key, **values)
            session.execute(stmt.on_conflict_do_update(index_elements=["repo"], set_=values))
            session.flush()
            session.expire_all()
            after = self._row(session, key)
            if after is not None and after.fetched_at is not None and _settings(after) != was:
                self._render_again(session, key, now)

    def render_again(self, repo: str) -> None:
        """Render the pull requests' cards of `repo` again (a button from before a change
        was clicked)."""
        with self.db.write() as session:
            self._render_again(session, repo.lower(), self.clock())

    def _render_again(self, session: Session, repo: str, now: datetime) -> None:
        """The pull requests' cards of `repo` show a Merge button that may change."""
        render_pull_cards_again(session, repo, now)

    @staticmethod
    def _row(session: Session, repo: str) -> RepoMergeSettingsRow | None:
        return session.scalar(select(RepoMergeSettingsRow)
                              .where(RepoMergeSettingsRow.repo == repo.lower()))
