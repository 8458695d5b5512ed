"""What each pending, running or waiting deploy of a card carries over what is live in its
environment: the range asked of GitHub's compare API and kept (see `CommitRanges`), for
the flush to read (see `devexbot.publish.deploy_contents`)."""

from __future__ import annotations

from correlation.status import Status
from devexbot.lookups.due import DueCard
from devexbot.lookups.found import Found
from devexbot.store import Database
from devexbot.store.commit_ranges import CommitRanges
from devexbot.store.environments import live_in

BEFORE_LIVE = (Status.PENDING, Status.RUNNING, Status.WAITING)
MAX_ENVIRONMENTS = 3  # the card's notes tell the first few; a card rarely waits on more


class DeployRangeLookup:
    def __init__(self, db: Database, ranges: CommitRanges) -> None:
        self.db, self.ranges = db, ranges

    def look(self, due: DueCard) -> Found:
        card = due.card
        if card.superseded_by or not self.ranges.available:
            return Found()
        found = Found()
        pending = [d for d in card.deployments if d.status in BEFORE_LIVE]
        for deployment in pending[:MAX_ENVIRONMENTS]:
            with self.db.read() as session:
                live = live_in(session, card.repo, deployment.environment)
            if live is None or live.sha == card.sha:
                continue  # nothing to ask GitHub
            if self.ranges.stored(card.repo, live.sha, card.sha) is not None:
                continue
            got = self.ranges.get(card.repo, live.sha, card.sha, pulls=True)
            found |= Found(changed=got is not None, complete=got is not None)
        return found
