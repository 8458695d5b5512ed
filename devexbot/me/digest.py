"""The digest: once a person's quiet hours end, the direct messages they held go out as
one message (a scheduler job on the bot's clock)."""

from __future__ import annotations

import logging
from datetime import datetime

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from correlation.digest import render_digest
from correlation.prefs import is_quiet
from devexbot.slack.errors import error_code
from devexbot.store.prefs import PrefsStore

log = logging.getLogger(__name__)


class QuietDigest:
    def __init__(self, prefs: PrefsStore, client: WebClient) -> None:
        self._prefs, self._client = prefs, client

    def run(self, now: datetime) -> str:
        """Send the digest of everyone whose quiet hours are over and who has DMs held."""
        sent = 0
        for user in self._prefs.holding():
            if is_quiet(self._prefs.get(user), now):
                continue
            held = self._prefs.held(user)
            if not held:
                continue
            message = render_digest([(h.at, h.text) for h in held])
            try:
                self._client.chat_postMessage(channel=user, text=message.text,
                                              blocks=message.blocks, unfurl_links=False)
            except SlackApiError as exc:
                log.warning("could not send %s their digest: %s", user, error_code(exc))
                continue  # held still: the next run tries again
            self._prefs.release(h.id for h in held)
            sent += 1
        return f"{sent} digest(s) sent"
