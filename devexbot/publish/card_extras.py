"""What a card's message shows besides its events, as the lookups recorded it (see
`devexbot.lookups`): its tickets' titles and statuses, what each waiting or pending
deploy carries over what is live, and what its repository allows merging by. Database
reads only: a flush calls no Jira or GitHub."""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass, field

from correlation.buttons import merge_candidate
from correlation.card import CommitCard
from correlation.merge_methods import RepoMergeSettings
from devexbot.publish.deploy_contents import DeployContentsNotes
from devexbot.store import Database
from devexbot.store.merge_settings import MergeSettings
from devexbot.tickets.directory import cached_info, with_info

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Decorated:
    card: CommitCard
    notes: list[str] = field(default_factory=list)  # mrkdwn lines for the card's notes
    merge_settings: RepoMergeSettings | None = None  # None: not read (yet)


class CardExtras:
    def __init__(self, db: Database, contents: DeployContentsNotes,
                 merge_settings: MergeSettings) -> None:
        self.db, self.contents, self.merge_settings = db, contents, merge_settings

    def decorate(self, card: CommitCard) -> Decorated:
        """The card with what the lookups found; what they have not found is left out."""
        notes: list[str] = []
        if card.tickets:
            with self.db.read() as session:
                known = cached_info(session, (str(t.get("key")) for t in card.tickets))
            card = dataclasses.replace(card, tickets=with_info(card.tickets, known))
        if not card.superseded_by:
            try:
                notes += self.contents.notes(card)
            except Exception:
                log.exception("what the deploys of %s@%s carry is unknown", card.repo,
                              card.short_sha)
        merge = self.merge_settings.known(card.repo) if merge_candidate(card) else None
        return Decorated(card, notes, merge)
