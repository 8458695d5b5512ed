"""Where the demo's story waits for the visitor: the demo's GitHub opens a gate when the bot
acts on it (a click on Retry, Merge, Approve or Reject), and the story goes on from there."""

from __future__ import annotations

import threading
import time

from devexbot.demo.scenario import Act

POLL = 0.25  # seconds between looks at the stop event while waiting


class Gates:
    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._opened: dict[str, Act] = {}
        self._passed: set[str] = set()

    def open(self, name: str, act: Act) -> bool:
        """The visitor acted; False when the story went on without them (or they already did)."""
        with self._changed:
            if name in self._passed or name in self._opened:
                return False
            self._opened[name] = act
            self._changed.notify_all()
            return True

    def wait(self, name: str, seconds: float, stop: threading.Event | None = None, *,
             last: bool = True) -> Act | None:
        """The visitor's act, or None after `seconds` (or on `stop`); after the `last` wait
        the gate stays shut: the story's own person acted."""
        deadline = time.monotonic() + seconds
        with self._changed:
            while name not in self._opened:
                left = deadline - time.monotonic()
                if left <= 0 or (stop is not None and stop.is_set()):
                    if last:
                        self._passed.add(name)
                    return None
                self._changed.wait(min(left, POLL))
            return self._opened[name]
