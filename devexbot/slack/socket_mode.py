"""Socket Mode: connect out to Slack over a WebSocket, for a bot without a public URL.

Connecting happens in the background with retries, so a Slack outage at start-up delays
slash commands and buttons but never stops the bot (webhooks and the API keep working).
"""

from __future__ import annotations

import logging
import threading

from slack_bolt import App
from slack_bolt.adapter.socket_mode import SocketModeHandler

log = logging.getLogger(__name__)


class SocketModeConnection:
    def __init__(self, app: App, app_token: str, *, max_backoff: float = 60.0) -> None:
        self._handler = SocketModeHandler(app, app_token)
        self._stop = threading.Event()
        self._max_backoff = max_backoff
        self._thread = threading.Thread(target=self._run, name="socket-mode", daemon=True)
        self.connected = threading.Event()

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        delay = 1.0
        while not self._stop.is_set():
            try:
                self._handler.connect()  # type: ignore[no-untyped-call]
            except Exception as exc:  # whatever the transport raises, try again later
                log.warning("Slack Socket Mode could not connect (%s); retrying in %.0fs",
                            exc, delay)
                self._stop.wait(delay)
                delay = min(self._max_backoff, delay * 2)
                continue
            log.info("Slack Socket Mode connected")
            self.connected.set()
            return

    def close(self) -> None:
        self._stop.set()
        if self.connected.is_set():
            self._handler.close()  # type: ignore[no-untyped-call]
