"""Finding the bot's own hooks: in each repository it has had news of lately, the hooks
whose payload URL is the bot's (`DEVEXBOT_PUBLIC_URL` + `/webhooks/github`), so that
catch-up watches them without their ids in the config. Listing a repository's hooks needs
admin on it; a repository whose hooks the bot may not read is skipped, and said so."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from correlation.catchup import our_hooks, pause_until
from devexbot.clients.github_hooks import HookLog, HookLogError, HookRef
from devexbot.store.catchup import CatchUpLedger

log = logging.getLogger(__name__)


class HookDiscovery:
    def __init__(self, deliveries: HookLog, ledger: CatchUpLedger, *, bot_url: str,
                 lookback: timedelta) -> None:
        self._log, self._ledger = deliveries, ledger
        self.bot_url, self._lookback = bot_url, lookback
        self._refused: set[str] = set()  # repositories already said to be unreadable

    def hooks(self, now: datetime) -> list[HookRef]:
        """The bot's hooks in the repositories with news since the lookback; stops at the
        first rate limit (the configured hooks still run this cycle)."""
        found: list[HookRef] = []
        for repo in self._ledger.recent_repos(now - self._lookback):
            try:
                listing = self._log.repo_hooks(repo)
            except HookLogError as exc:
                if pause_until(exc.status, exc.headers, now) is not None:
                    log.warning("catch-up: finding hooks stopped at %s: %s", repo, exc)
                    break
                if repo not in self._refused:
                    self._refused.add(repo)
                    log.warning("catch-up: cannot list the hooks of %s (%s); name them in "
                                "github.hooks or give the bot admin there", repo, exc)
                continue
            self._refused.discard(repo)
            found += [HookRef("repo", repo, ident) for ident in our_hooks(listing,
                                                                          self.bot_url)]
        return found
