"""The tickets a deploy brought with the commits between what was live in the environment
and it: for each `TicketDeploy` row ingest recorded, ask GitHub's compare API what lies
between (`CommitRanges`, kept, so the approval card's lookup may have asked already), read
those commits' cards, and enqueue the updates `deploy_tickets` names.

GitHub unable to say (down, or the live commit is gone): tried again with the ticket
updates' back-off, MAX_ATTEMPTS times; the deployed commit's own tickets are owed anyway
(see `DeployTicketUpdates`). Rows are leased, so replicas and threads never do the same one.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from correlation.card import CommitCard
from correlation.deploy_tickets import CarriedCommit, deploy_tickets
from correlation.tickets import github_web_of, is_jira_key
from devexbot.config import Tickets
from devexbot.store import Card, Database, TicketDeploy
from devexbot.store.cards import CardLoader
from devexbot.store.commit_ranges import CommitRanges, Range
from devexbot.tickets.policy import TicketPolicy
from devexbot.tickets.updates import deploy_rows, enqueue

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8  # with the back-off, about two hours of GitHub saying nothing


@dataclass(frozen=True)
class Deploy:
    id: int
    repo: str
    environment: str
    sha: str
    base: str
    url: str | None
    card_id: int | None
    attempts: int


class CarriedTickets:
    def __init__(self, db: Database, ranges: CommitRanges, card_loader: CardLoader,
                 config: Tickets, *, policy: TicketPolicy,
                 clock: Callable[[], datetime]) -> None:
        self.db, self.ranges, self.card_loader, self.config = db, ranges, card_loader, config
        self.policy, self.clock = policy, clock

    def run_due(self, *, limit: int = 100) -> int:
        """Work out every due deploy once; returns how many were tried."""
        tried = 0
        while tried < limit:
            deploy = self._claim()
            if deploy is None:
                break
            tried += 1
            self._work(deploy)
        return tried

    def _claim(self) -> Deploy | None:
        now = self.clock()
        with self.db.write() as session:
            row = session.scalar(
                select(TicketDeploy)
                .where(TicketDeploy.state == "pending", TicketDeploy.next_attempt_at <= now,
                       or_(TicketDeploy.claimed_until.is_(None),
                           TicketDeploy.claimed_until < now))
                .order_by(TicketDeploy.next_attempt_at, TicketDeploy.id)
                .limit(1)
                .with_for_update(skip_locked=True)
            )
            if row is None:
                return None
            row.claimed_until = now + timedelta(seconds=self.policy.lease)
            return Deploy(row.id, row.repo, row.environment, row.sha, row.base, row.url,
                          row.card_id, row.attempts)

    def _work(self, deploy: Deploy) -> None:
        if not self.ranges.available:
            self._end(deploy, "done", error="GitHub is not configured: only the deployed "
                                            "commit's own tickets were updated")
            return
        found = self.ranges.get(deploy.repo, deploy.base, deploy.sha, pulls=True)
        if found is None:
            error = (f"GitHub could not compare {deploy.base[:7]}...{deploy.sha[:7]} of "
                     f"{deploy.repo}")
            if deploy.attempts + 1 >= MAX_ATTEMPTS:
                log.warning("%s: giving up on the tickets the deploy to %s brought", error,
                            deploy.environment)
                self._end(deploy, "failed", error=error)
            else:
                self._retry(deploy, error)
            return
        self._enqueue(deploy, found)

    def _enqueue(self, deploy: Deploy, found: Range) -> None:
        now = self.clock()
        shas = [str(c["sha"]) for c in found.commits]
        with self.db.write() as session:
            cards = {row.sha: self.card_loader.load(row) for row in session.scalars(
                select(Card).where(Card.repo == deploy.repo, Card.sha.in_([*shas, deploy.sha])))}
            deployed = cards.get(deploy.sha)
            web = github_web_of(deployed.url if deployed else None, deploy.repo)
            carried = [_carried(dict(c), cards.get(str(c["sha"])), deploy.repo, web)
                       for c in found.commits]
            tickets = deploy_tickets(carried, deployed=deploy.sha,
                                     rules=self.card_loader.rules.tickets)
            rule = self.config.on_deploy_to(deploy.environment)
            if rule is not None:
                enqueue(session, deploy_rows(
                    tickets, rule, environment=deploy.environment, url=deploy.url,
                    repo=deploy.repo, sha=deploy.sha, card_id=deploy.card_id), now)
            self._finish(session, deploy, "done", None, now)

    def _end(self, deploy: Deploy, state: str, *, error: str | None) -> None:
        with self.db.write() as session:
            self._finish(session, deploy, state, error, self.clock())

    @staticmethod
    def _finish(session: Session, deploy: Deploy, state: str, error: str | None,
                now: datetime) -> None:
        session.execute(update(TicketDeploy).where(TicketDeploy.id == deploy.id).values(
            state=state, claimed_until=None, done_at=now, attempts=deploy.attempts + 1,
            last_error=error))

    def _retry(self, deploy: Deploy, error: str) -> None:
        attempts = deploy.attempts + 1
        wait = self.policy.backoff(attempts)
        log.info("%s (attempt %d), trying again in %.0fs", error, attempts, wait)
        with self.db.write() as session:
            session.execute(update(TicketDeploy).where(TicketDeploy.id == deploy.id).values(
                attempts=attempts, claimed_until=None, last_error=error,
                next_attempt_at=self.clock() + timedelta(seconds=wait)))


def _carried(commit: dict[str, object], card: CommitCard | None, repo: str,
             web: str) -> CarriedCommit:
    sha = str(commit["sha"])
    pulls = commit.get("pulls")
    return CarriedCommit(
        sha, message=str(commit.get("message") or (card.message if card else "") or ""),
        url=(card.url if card else None) or f"{web}/{repo}/commit/{sha}",
        pulls=tuple(pulls) if isinstance(pulls, list) else (),
        card_tickets=None if card is None else tuple(
            str(t["key"]) for t in card.tickets if is_jira_key(str(t.get("key")))))
