"""The card lookups' loop: claim a card whose lookups are due, run each lookup (Jira and
GitHub calls, outside any transaction), record, and hand the card back (marked dirty when
what it shows changed)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Protocol

from devexbot.lookups.due import DueCard, LookupClaims
from devexbot.lookups.found import Found
from devexbot.polling import PollingWorker

log = logging.getLogger(__name__)


class Lookup(Protocol):
    def look(self, due: DueCard) -> Found:
        """Look up what `due`'s card needs and record it; what that came to."""
        ...


class CardLookups:
    def __init__(self, claims: LookupClaims, lookups: Sequence[Lookup]) -> None:
        self.claims, self.lookups = claims, tuple(lookups)

    def run_due(self, *, limit: int = 100) -> int:
        """Look up every due card once; returns how many were looked up."""
        done = 0
        while self.lookups and done < limit:
            due = self.claims.next()
            if due is None:
                break
            done += 1
            self._work(due)
        return done

    def _work(self, due: DueCard) -> None:
        found = Found()
        for lookup in self.lookups:
            try:
                found |= lookup.look(due)
            except Exception:  # one lookup failing never costs the others
                log.exception("%s of %s@%s failed", type(lookup).__name__, due.card.repo,
                              due.card.short_sha)
                found |= Found(complete=False)
        self.claims.finish(due, changed=found.changed, complete=found.complete)


class LookupWorker(PollingWorker):
    """Runs `CardLookups.run_due` in a thread: woken by ingest, and polling."""

    def __init__(self, lookups: CardLookups) -> None:
        super().__init__(lookups.run_due, name="card-lookups",
                         poll=lookups.claims.policy.poll)
        self.lookups = lookups
