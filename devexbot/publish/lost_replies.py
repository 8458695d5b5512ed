"""Thread replies that may have reached Slack although the bot never heard so: the post
timed out or Slack answered 5xx (the claim is left `unsure`), or the sender died between
posting and recording it (the claim is left `sending`). Each reply carries its card and
keys in its metadata; the thread is read back (`conversations.replies`, within the same
tier-3 budget as `conversations.history`), a reply found there is recorded as sent, and a
reply not found is forgotten, so the next plan posts it: once, either way.

A direct message has no thread to read back: its claim is forgotten at once on a timeout
(it may, rarely, arrive twice) and kept if its sender died (it may, rarely, never arrive).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy import delete, or_, select, update

from devexbot.publish.pacing import Deferred, Pacing
from devexbot.slack.errors import error_code, is_transient, slack_unusable
from devexbot.store import Database, Notification

log = logging.getLogger(__name__)

REPLY_EVENT = "devexbot_reply"
PAGE = 200
# A claim still `sending` after this was left by a sender that died: no post takes as long
# (the Slack client gives up well before).
SENDING_FOR = timedelta(minutes=2)


def reply_metadata(card_id: int, keys: Iterable[str]) -> dict[str, Any]:
    """The metadata a reply carries, by which it is found in its thread again."""
    return {"event_type": REPLY_EVENT,
            "event_payload": {"card": card_id, "keys": [{"key": k} for k in keys]}}


class LostReplies:
    def __init__(self, db: Database, client: WebClient, pacing: Pacing, *,
                 clock: Callable[[], datetime]) -> None:
        self.db, self.client, self.pacing, self.clock = db, client, pacing, clock

    def resolve(self, card_id: int) -> set[str]:
        """Settle the card's thread replies whose fate is unknown; the keys forgotten (to be
        posted again). Raises `Deferred` while the read-back budget is spent, and
        `SlackApiError` when Slack cannot say now: the card waits and looks again."""
        stale = self.clock() - SENDING_FOR
        with self.db.read() as session:
            rows = session.execute(select(Notification.key, Notification.channel,
                                          Notification.thread_ts).where(
                Notification.card_id == card_id, Notification.thread_ts.is_not(None),
                or_(Notification.state == "unsure",
                    (Notification.state == "sending") & (Notification.created_at < stale)))
            ).all()
        threads: dict[tuple[str, str], list[str]] = {}
        for key, channel, thread_ts in rows:
            if channel and thread_ts:
                threads.setdefault((channel, thread_ts), []).append(key)
        forgotten: set[str] = set()
        for (channel, thread_ts), keys in threads.items():
            if not self.pacing.take_history():
                raise Deferred(max(self.pacing.history_wait(), 0.2))
            found = self._in_thread(card_id, channel, thread_ts)
            missing = [key for key in keys if key not in found]
            with self.db.write() as session:
                for key in keys:
                    if key in found:
                        session.execute(update(Notification).where(
                            Notification.card_id == card_id, Notification.key == key
                        ).values(state="sent", ts=found[key]))
                session.execute(delete(Notification).where(
                    Notification.card_id == card_id, Notification.key.in_(missing)))
            forgotten.update(missing)
            log.info("replies whose answer was lost, in %s: %d found in the thread, %d to "
                     "post again", channel, len(keys) - len(missing), len(missing))
        return forgotten

    def _in_thread(self, card_id: int, channel: str, thread_ts: str) -> dict[str, str]:
        """The card's keys the thread's replies carry, and their `ts`."""
        found: dict[str, str] = {}
        cursor: str | None = None
        while True:
            try:
                page = self.client.conversations_replies(
                    channel=channel, ts=thread_ts, limit=PAGE, cursor=cursor,
                    include_all_metadata=True)
            except SlackApiError as exc:
                if is_transient(exc) or slack_unusable(exc):
                    raise  # Slack cannot say now: look again later rather than post twice
                # The thread is gone, or out of the bot's reach: nothing to find there.
                log.warning("cannot read the thread %s in %s (%s)", thread_ts, channel,
                            error_code(exc))
                return found
            messages: list[dict[str, Any]] = page.get("messages", [])
            for message in messages:
                meta = message.get("metadata") or {}
                payload = meta.get("event_payload") or {}
                if meta.get("event_type") == REPLY_EVENT and payload.get("card") == card_id:
                    for item in payload.get("keys") or []:
                        if isinstance(item, dict) and isinstance(item.get("key"), str):
                            found[item["key"]] = str(message["ts"])
            cursor = (page.get("response_metadata") or {}).get("next_cursor") \
                if page.get("has_more") else None
            if not cursor:
                return found
            if not self.pacing.take_history():
                raise Deferred(max(self.pacing.history_wait(), 0.2))
