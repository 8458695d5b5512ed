"""Finding a card's post that may have reached Slack although its answer never came back
(a crash, a timeout, a 5xx), so that it is brought up to date rather than posted twice.

The card's message carries its repository and commit in its metadata; the channel's
history is read back to the moment the post started, page by page (newest first, as
Slack gives it), each page within the `conversations.history` budget. A card posted as a
reply in a thread (a pull request's earlier head) is looked for in that thread
(`conversations.replies`, the same budget). A search the budget interrupts resumes from
its cursor next time.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.web.slack_response import SlackResponse

from devexbot.publish.channels import CHANNEL_ID
from devexbot.publish.pacing import Deferred, Pacing
from devexbot.slack.errors import error_code, is_transient, slack_unusable

log = logging.getLogger(__name__)

METADATA_EVENT = "devexbot_card"
PAGE = 200  # messages per page: Slack recommends no more than 200
CLOCK_MARGIN = timedelta(seconds=60)  # our clock and Slack's `ts` may disagree this much

# Whose post is looked for: (card id, the channel as its route names it).
PostKey = tuple[int, str]


def card_metadata(repo: str, sha: str) -> dict[str, Any]:
    """The metadata a card's message carries, by which it is found again."""
    return {"event_type": METADATA_EVENT, "event_payload": {"repo": repo, "sha": sha}}


class LostPosts:
    """Looks for posts whose answer was lost; remembers where an interrupted search was."""

    def __init__(self, client: WebClient, pacing: Pacing) -> None:
        self.client, self.pacing = client, pacing
        self._resume: dict[tuple[int, str, datetime], str] = {}  # key, started: cursor
        self._lock = threading.Lock()

    def find(self, post: PostKey, channel: str, repo: str, sha: str,
             started_at: datetime, *, thread_ts: str | None = None) -> str | None:
        """The `ts` of the card's message in `channel` (an ID) if Slack has it. The caller
        has reserved the first `conversations.history` call; further pages take their own.
        Raises `Deferred` when the budget runs out between pages (the next call resumes
        there) and `SlackApiError` when Slack cannot say now (429, 5xx): posting without
        knowing could post twice, so the card waits and looks again."""
        key, wanted = (*post, started_at), card_metadata(repo, sha)
        oldest = f"{(started_at - CLOCK_MARGIN).timestamp():.6f}"
        with self._lock:
            cursor = self._resume.pop(key, None)
        pages = 0
        while True:
            try:
                page = self._page(channel, oldest, cursor, thread_ts)
            except SlackApiError as exc:
                if is_transient(exc) or slack_unusable(exc):  # Slack cannot say now
                    self._keep(key, cursor)  # the pages read so far need not be read again
                    raise
                # Looking can never succeed here (no scope, no such channel): post.
                log.warning("cannot look for %s@%s's message in %s (%s): posting it",
                            repo, sha[:7], channel, error_code(exc))
                return None
            pages += 1
            messages: list[dict[str, Any]] = page.get("messages", [])
            for message in messages:
                # A thread's parent (the PR's message) may carry the same card's metadata:
                # it was posted with the head that came first.
                if _metadata(message) == wanted and message.get("ts") != thread_ts:
                    log.info("found %s@%s's message after its answer was lost (%d page(s) "
                             "read)", repo, sha[:7], pages)
                    return str(message["ts"])
            cursor = (page.get("response_metadata") or {}).get("next_cursor") \
                if page.get("has_more") else None
            if not cursor:
                return None
            if not self.pacing.take_history():
                self._keep(key, cursor)
                raise Deferred(max(self.pacing.history_wait(), 0.2))

    def _keep(self, key: tuple[int, str, datetime], cursor: str | None) -> None:
        if cursor:
            with self._lock:
                self._resume[key] = cursor

    def _page(self, channel: str, oldest: str, cursor: str | None,
              thread_ts: str | None) -> SlackResponse:
        def read() -> SlackResponse:
            if thread_ts is not None:
                return self.client.conversations_replies(
                    channel=channel, ts=thread_ts, oldest=oldest, limit=PAGE, cursor=cursor,
                    include_all_metadata=True)
            return self.client.conversations_history(
                channel=channel, oldest=oldest, limit=PAGE, cursor=cursor,
                include_all_metadata=True)

        try:
            return read()
        except SlackApiError as exc:
            # chat:write.public posts to a public channel without joining it, but only a
            # member may read the channel: join, then look.
            if error_code(exc) != "not_in_channel" or not CHANNEL_ID.match(channel):
                raise
            self.client.conversations_join(channel=channel)
            return read()


def _metadata(message: dict[str, Any]) -> dict[str, Any]:
    meta = message.get("metadata") or {}
    return {"event_type": meta.get("event_type"), "event_payload": meta.get("event_payload")}
