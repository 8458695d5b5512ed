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
    """Built with the bot, connected by `start` (Slack's client starts threads as soon as
    it exists, so it is made there), closed by `stop`."""

    def __init__(self, app: App, app_token: str, *, max_backoff: float = 60.0) -> None:
        self._app, self._app_token = app, app_token
        self._max_backoff = max_backoff
        self._stop = threading.Event()
        self._handler: SocketModeHandler | None = None
        self.connected = threading.Event()

    def start(self) -> None:
        self._stop.clear()
        self.connected.clear()
        handler = self._handler = SocketModeHandler(self._app, self._app_token)
        threading.Thread(target=self._run, args=(handler,), name="socket-mode",
                         daemon=True).start()

    def _run(self, handler: SocketModeHandler) -> None:
        delay = 1.0
        while not self._stop.is_set():
            try:
                handler.connect()  # type: ignore[no-untyped-call]
            except Exception as exc:  # whatever the transport raises, try again later
                log.warning("Slack Socket Mode could not connect (%s); retrying in %.0fs",
                            exc, delay)
                self._stop.wait(delay)
                delay = min(self._max_backoff, delay * 2)
                continue
            log.info("Slack Socket Mode connected")
            self.connected.set()
            return

    def stop(self) -> None:
        self._stop.set()
        if self._handler is not None and self.connected.is_set():
            self._handler.close()  # type: ignore[no-untyped-call]
