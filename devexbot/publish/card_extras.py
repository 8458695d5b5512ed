"""What a card's message shows besides its events, looked up when it is flushed: its
tickets' titles and statuses (from the issue tracker, cached), and what each waiting or
pending deploy carries over what is live (from GitHub, cached)."""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass, field

from correlation.card import CommitCard
from devexbot.publish.deploy_contents import DeployContentsNotes
from devexbot.tickets.directory import TicketDirectory, with_info

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Decorated:
    card: CommitCard
    notes: list[str] = field(default_factory=list)  # mrkdwn lines for the card's notes


class CardExtras:
    def __init__(self, tickets: TicketDirectory | None = None,
                 contents: DeployContentsNotes | None = None) -> None:
        self.tickets, self.contents = tickets, contents

    def decorate(self, card: CommitCard) -> Decorated:
        """The card with what the lookups found; a lookup that fails leaves its part out."""
        notes: list[str] = []
        if self.tickets is not None and card.tickets:
            try:
                known = self.tickets.lookup(str(t.get("key")) for t in card.tickets)
                card = dataclasses.replace(card, tickets=with_info(card.tickets, known))
            except Exception:
                log.exception("looking up the tickets of %s@%s failed", card.repo,
                              card.short_sha)
        if self.contents is not None and not card.superseded_by:
            try:
                notes += self.contents.notes(card)
            except Exception:
                log.exception("what the deploys of %s@%s carry is unknown", card.repo,
                              card.short_sha)
        return Decorated(card, notes)
