"""The commits a deploy carried over what was live before it, from GitHub's compare API
(`CommitRanges`, kept): each becomes shipped with the deploy unless it reached the
environment before, with when it first appeared (its card's creation, or else its commit
time as GitHub tells it); a carried revert is a change signal, and a deploy GitHub says is
behind what was live is a rollback. A lookup of the deployed commit's card: retried while
GitHub cannot say."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from correlation.delivery_metrics import is_rollback, revert_of
from correlation.events import ParseError, parse_time
from devexbot.lookups.due import DueCard
from devexbot.lookups.found import Found
from devexbot.store import Card, Database, DeployRecord
from devexbot.store.commit_ranges import CommitRanges, Range
from devexbot.store.delivery_records import ship, signal

log = logging.getLogger(__name__)


class CarriedCommitsLookup:
    def __init__(self, db: Database, ranges: CommitRanges) -> None:
        self.db, self.ranges = db, ranges

    def look(self, due: DueCard) -> Found:
        card = due.card
        if not self.ranges.available:
            return Found()
        with self.db.read() as session:
            pending = session.execute(
                select(DeployRecord.id, DeployRecord.base)
                .where(DeployRecord.repo == card.repo, DeployRecord.sha == card.sha,
                       DeployRecord.carried == "pending", DeployRecord.base.is_not(None))).all()
        complete = True
        for deploy_id, base in pending:
            found = self.ranges.get(card.repo, str(base), card.sha)
            if found is None:
                complete = False
                continue
            with self.db.write() as session:
                carry(session, deploy_id, found)
        return Found(complete=complete)


def carry(session: Session, deploy_id: int, found: Range) -> None:
    """Record what the deploy carried (once: a second look finds it done)."""
    deploy = session.get(DeployRecord, deploy_id, with_for_update=True)
    if deploy is None or deploy.carried != "pending":
        return
    shas = [str(c["sha"]) for c in found.commits if c.get("sha") != deploy.sha]
    seen = dict(session.execute(select(Card.sha, Card.created_at).where(
        Card.repo == deploy.repo, Card.sha.in_(shas))).all()) if shas else {}
    for commit in found.commits:
        sha = str(commit.get("sha"))
        if sha == deploy.sha:
            continue
        message = str(commit.get("message") or "")
        first_seen = seen.get(sha) or _commit_time(commit.get("at"))
        if first_seen is None:
            log.info("%s@%s carried by a deploy: no first appearance known", deploy.repo,
                     sha[:7])
            continue
        ship(session, deploy.repo, deploy.env_key, sha, title=message,
             first_seen=min(first_seen, deploy.at), deployed_at=deploy.at, deploy_id=deploy.id)
        reverts = revert_of(message)
        if reverts is not None:
            signal(session, deploy.repo, "revert", sha, first_seen, *reverts)
    session.execute(update(DeployRecord).where(DeployRecord.id == deploy.id).values(
        carried="done", rollback=is_rollback(sha=deploy.sha, live_sha=deploy.base,
                                             shipped_before=deploy.rollback,
                                             compare_status=found.status)))


def _commit_time(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return parse_time(value)
    except ParseError:
        return None
