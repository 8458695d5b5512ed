"""Failed builds' log excerpts as the lookups record them: an event of the card (source
`devexbot`, kind `log`, named by the failure), so it is kept, and pruned, with the card.
The fold ignores these events; the outbox's claim reads them for the failure reply."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from correlation.card import CheckLine, iso
from correlation.events import Event, Slot
from correlation.status import Status

LOG_SOURCE, LOG_KIND = "devexbot", "log"
MAX_LOGS = 2  # the reply has room for a couple; more would bury the first
MAX_FETCHES = 4  # logs read per failure reply, for when some have nothing to quote


@dataclass(frozen=True)
class LogSources:
    """Which failed builds' logs the bot can read: those of the APIs configured."""

    jenkins: bool
    github: bool

    def readable(self, check: CheckLine) -> bool:
        details = check.details
        if check.source == "jenkins" and self.jenkins:
            return isinstance(details.get("job"), str) and \
                isinstance(details.get("build_number"), int)
        return check.kind == "job" and self.github and isinstance(details.get("job_id"), int)

    def wanted(self, checks: Sequence[CheckLine]) -> list[CheckLine]:
        """Those of a failure reply's `checks` whose logs it quotes, once read."""
        return [c for c in checks if c.status is Status.FAILURE and self.readable(c)
                ][:MAX_FETCHES]


def log_key(check: CheckLine) -> str:
    """One failure of a check: its slot and when it failed."""
    source, kind, name = check.slot
    return f"{source}/{kind}/{name}@{iso(check.updated_at)}"


def log_event(repo: str, sha: str, check: CheckLine, excerpt: str | None) -> Event:
    """The record of a failure's log: its excerpt, or None when there is none to quote
    (the log was empty, or could not be read). Timed as the failure, so the card's own
    time does not move."""
    return Event(repo=repo, sha=sha, source=LOG_SOURCE, kind=LOG_KIND, name=log_key(check),
                 at=check.updated_at, data={"check": check.name, "excerpt": excerpt})


def recorded_logs(state: Mapping[Slot, Event]) -> dict[str, str | None]:
    """Log key → excerpt (None: nothing to quote) for the logs recorded on a card."""
    return {
        event.name: event.data.get("excerpt") if isinstance(event.data.get("excerpt"), str)
        else None
        for (source, kind, _), event in state.items()
        if source == LOG_SOURCE and kind == LOG_KIND
    }
