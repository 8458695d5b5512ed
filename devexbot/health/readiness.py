"""What the bot last saw of each service it uses: up, down (with the last error in one
line) or off (not configured). The clients record what their calls met, the watch
(`devexbot.health.watch`) checks again while one is down; `/readyz` only reads this."""

from __future__ import annotations

import threading
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from devexbot.store.models import utcnow

State = Literal["up", "down", "off"]
SERVICES = ("slack", "github", "jenkins", "jira")  # the database is asked at each /readyz
NAMES = {"database": "the database", "slack": "Slack", "github": "GitHub",
         "jenkins": "Jenkins", "jira": "Jira"}
NOT_CHECKED = "not checked yet"


@dataclass(frozen=True)
class Seen:
    """One service as last seen: its state, since when, and the error that put it down."""

    state: State
    error: str | None = None
    since: datetime | None = None
    checked_at: datetime | None = None

    def to_json(self) -> dict[str, str | None]:
        found: dict[str, str | None] = {"state": self.state}
        if self.state == "down":
            found["error"] = self.error
        if self.since is not None:
            found["since"] = self.since.isoformat()
        return found


def is_ready(seen: dict[str, Seen]) -> bool:
    """Ready unless a service the bot is configured to use is down."""
    return all(s.state != "down" for s in seen.values())


class Readiness:
    """The services' states, shared by the threads that call them (thread-safe). The watch
    says when one goes down or comes back, once."""

    def __init__(self, configured: Collection[str], *,
                 clock: Callable[[], datetime] = utcnow) -> None:
        self.clock = clock
        self._lock = threading.Lock()
        now = clock()
        self._seen = {name: Seen("down", NOT_CHECKED, now) if name in configured
                      else Seen("off") for name in SERVICES}

    def configured(self, name: str) -> bool:
        return self._seen[name].state != "off"

    def up(self, name: str) -> None:
        """A call to `name` was answered."""
        self._record(name, None)

    def down(self, name: str, error: str) -> None:
        """A call to `name` failed in a way that says it is not usable (`error`: one line)."""
        self._record(name, error)

    def get(self, name: str) -> Seen:
        with self._lock:
            return self._seen[name]

    def snapshot(self) -> dict[str, Seen]:
        with self._lock:
            return dict(self._seen)

    def _record(self, name: str, error: str | None) -> None:
        now = self.clock()
        with self._lock:
            before = self._seen[name]
            if before.state == "off":
                return
            state: State = "up" if error is None else "down"
            since = before.since if state == before.state and before.error != NOT_CHECKED \
                else now
            self._seen[name] = Seen(state, error, since, now)
