"""A run in Slack: the "ran" message in the channel and one reply in its thread, edited with
the output's tail at most once per `interval` (Slack's chat.update is rate limited), then
a last time with the outcome. Slack being slow or down never stops the run."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from devexbot.publish.pacing import Pacing
from devexbot.slack.errors import error_code, is_transient

log = logging.getLogger(__name__)

Block = dict[str, Any]


class RunThread:
    def __init__(self, client: WebClient, pacing: Pacing, channel: str, *, interval: float,
                 patience: float = 30.0, stop: threading.Event | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.client, self.pacing, self.channel = client, pacing, channel
        self._stop = stop or threading.Event()  # the bot is stopping: no more waiting
        self.interval, self.patience, self._clock = interval, patience, clock
        self.ts: str | None = None  # the "ran" message
        self.reply_ts: str | None = None  # the reply showing the output
        self.edits = 0
        self._last_edit = -interval
        self._retryable = False  # whether the last refusal is worth another try

    def open(self, text: str, reply_text: str, reply_blocks: list[Block]) -> bool:
        """Post the "ran" message and its reply; False if Slack would not take them."""
        deadline = self._clock() + self.patience
        if not self._wait(lambda: self.pacing.blocked_for(self.channel) == 0
                          and self.pacing.take_post(self.channel), deadline):
            return False
        try:
            posted = self.client.chat_postMessage(channel=self.channel, text=text,
                                                  unfurl_links=False, unfurl_media=False)
            self.channel, self.ts = posted["channel"], posted["ts"]
            # A thread reply is a message in the channel too: one per second.
            if not self._wait(lambda: self.pacing.take_post(self.channel), deadline):
                return False
            reply = self.client.chat_postMessage(channel=self.channel, thread_ts=self.ts,
                                                 text=reply_text, blocks=reply_blocks,
                                                 unfurl_links=False, unfurl_media=False)
            self.reply_ts = reply["ts"]
            self._last_edit = self._clock()
        except SlackApiError as exc:
            self._refused("chat.postMessage", exc)
            return False
        except OSError as exc:  # Slack unreachable or too slow
            log.warning("chat.postMessage for a run in %s failed: %s", self.channel, exc)
            return False
        return True

    def due(self) -> bool:
        return self.reply_ts is not None and self._clock() - self._last_edit >= self.interval

    def show(self, text: str, blocks: list[Block]) -> bool:
        """Edit the reply now if an edit is due and Slack's limits allow one."""
        if not self.due() or self.pacing.blocked_for(self.channel) \
                or not self.pacing.take_update(self.channel):
            return False
        return self._update(self.reply_ts, text, blocks)

    def finish(self, text: str, blocks: list[Block], parent_text: str) -> None:
        """The last edits: the reply shows the outcome, the "ran" message says how it ended.
        Waits its turn (the interval, Slack's limits), for `patience` seconds at most."""
        if self.reply_ts is None or self.ts is None:
            return
        deadline = self._clock() + self.patience
        for ts, message_text, message_blocks, paced in ((self.reply_ts, text, blocks, True),
                                                        (self.ts, parent_text, None, False)):
            while True:
                if not self._wait(lambda p=paced: (self.due() or not p)  # type: ignore[misc]
                                  and self.pacing.blocked_for(self.channel) == 0
                                  and self.pacing.take_update(self.channel), deadline):
                    log.warning("gave up on the last edit of a run in %s", self.channel)
                    return
                if self._update(ts, message_text, message_blocks) or not self._retryable \
                        or self._stop.is_set():
                    break

    def _update(self, ts: str | None, text: str, blocks: list[Block] | None) -> bool:
        assert ts is not None
        self._last_edit = self._clock()
        try:
            if blocks is None:
                self.client.chat_update(channel=self.channel, ts=ts, text=text)
            else:
                self.client.chat_update(channel=self.channel, ts=ts, text=text, blocks=blocks)
        except SlackApiError as exc:
            self._refused("chat.update", exc)
            return False
        except OSError as exc:
            log.warning("chat.update for a run in %s failed: %s", self.channel, exc)
            self._retryable = True
            return False
        self.edits += 1
        return True

    def _refused(self, method: str, exc: SlackApiError) -> None:
        response = exc.response
        self._retryable = is_transient(exc)
        if response.status_code == 429:
            self.pacing.block(self.channel, float(response.headers.get("Retry-After", 1)))
        log.warning("%s for a run in %s failed: %s (HTTP %s)", method, self.channel,
                    error_code(exc) or "-", response.status_code)

    def _wait(self, ready: Callable[[], bool], deadline: float) -> bool:
        while not ready():
            if self._clock() >= deadline or self._stop.is_set():
                return False
            time.sleep(0.05)
        return True
