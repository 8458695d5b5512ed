"""What the repository of an open pull request's card allows merging by, read from GitHub
when the kept settings are missing or stale (see `MergeSettings`); the flush reads them
for the card's Merge button."""

from __future__ import annotations

from devexbot.lookups.due import DueCard
from devexbot.lookups.found import Found
from devexbot.store.merge_settings import MergeSettings


class MergeSettingsLookup:
    def __init__(self, settings: MergeSettings) -> None:
        self.settings = settings

    def look(self, due: DueCard) -> Found:
        card, pr = due.card, due.card.pull_request
        if (card.superseded_by or pr is None or pr.state != "open" or pr.head_sha != card.sha
                or not self.settings.available):
            return Found()  # no Merge button to draw
        before = self.settings.known(card.repo)
        answered = self.settings.lookup(card.repo)
        return Found(changed=self.settings.known(card.repo) != before, complete=answered)
