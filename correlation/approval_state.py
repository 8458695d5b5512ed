"""Where an approval request stands: waiting for people, expired, or decided.

Decided once, here, from plain facts the shell reads off the card and the config, so the
scheduler's note, the expiry sweep, the buttons (Slack and web) and the clicks agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

__all__ = ["RequestFacts", "RequestState", "request_state"]


class RequestState(StrEnum):
    WAITING = "waiting"  # people may still decide
    EXPIRED = "expired"  # nobody decided in time: no buttons, clicks refused
    DECIDED = "decided"  # approved or rejected


@dataclass(frozen=True)
class RequestFacts:
    since: datetime  # when it started waiting, as the card knows it
    expires_after: timedelta | None  # how long it stays open; None (or 0): for ever
    marked_expired: bool = False  # the card already says it expired
    decided: bool = False  # approved or rejected

    def waited(self, now: datetime) -> timedelta:
        """How long it has waited by `now` (never negative: clocks differ)."""
        return max(now - self.since, timedelta(0))

    def expires_in(self, now: datetime) -> timedelta | None:
        """How long until it expires; None if it never does."""
        span = self.expires_after
        if span is None or span <= timedelta(0):
            return None
        return max(span - self.waited(now), timedelta(0))


def request_state(facts: RequestFacts, now: datetime) -> RequestState:
    """A decision stands; what the card calls expired stays expired (whatever the clock
    or the config says since); else it expires once it has waited its whole span."""
    if facts.decided:
        return RequestState.DECIDED
    if facts.marked_expired:
        return RequestState.EXPIRED
    span = facts.expires_after
    if span is not None and span > timedelta(0) and now - facts.since >= span:
        return RequestState.EXPIRED
    return RequestState.WAITING
