"""What the repository of an open pull request's card allows merging by, and whether its
base branch takes pull requests only through GitHub's merge queue: read from GitHub when
the kept answers are missing or stale (see `MergeSettings`, `QueueRules`); the flush reads
them for the card's Merge (or "Add to merge queue") button."""

from __future__ import annotations

from correlation.buttons import merge_candidate
from devexbot.lookups.due import DueCard
from devexbot.lookups.found import Found
from devexbot.store.merge_settings import MergeSettings


class MergeSettingsLookup:
    def __init__(self, settings: MergeSettings) -> None:
        self.settings = settings

    def look(self, due: DueCard) -> Found:
        card = due.card
        if not merge_candidate(card) or not self.settings.available:
            return Found()  # no Merge button to draw
        before = self.settings.known(card.repo)
        answered = self.settings.lookup(card.repo)
        base = card.pull_request.base if card.pull_request is not None else None
        if base:
            answered = self.settings.queue_rules.lookup(card.repo, base) and answered
        return Found(changed=self.settings.known(card.repo) != before, complete=answered)
