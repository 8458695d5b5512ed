"""Whether a request that says it comes from Slack is taken: its timestamp (Slack's 5-minute
window, and a small allowance for a clock ahead of ours), whether it was already answered
(the key it is remembered by), and whether it comes from the bot's own workspace."""

from __future__ import annotations

import json
from collections.abc import Collection
from dataclasses import dataclass
from enum import Enum

REQUEST_WINDOW = 300  # seconds: Slack's rule, a request older than this is refused
FUTURE_SKEW = 60  # seconds a sender's clock may run ahead of ours
# How long a request is remembered: past its window, and past Slack's retries of an event
# (at once, after a minute, after five).
REMEMBER_FOR = 2 * REQUEST_WINDOW


def timestamp_refusal(timestamp: int, now: float) -> str | None:
    """Why a request stamped `timestamp` (epoch seconds) is refused at `now`; None: fresh."""
    if now - timestamp > REQUEST_WINDOW:
        return "the request is older than 5 minutes"
    if timestamp - now > FUTURE_SKEW:
        return f"the request's timestamp is more than {FUTURE_SKEW} s ahead of the bot's clock"
    return None


class Repeat(Enum):
    """What a second sighting of a request's key means."""

    REPLAY = "replay"  # the same signed request again: refused
    RETRY = "retry"  # Slack delivering an event again: answered, not handled again


@dataclass(frozen=True)
class RequestKey:
    """What a request is remembered by, and what seeing it again means."""

    key: str
    repeat: Repeat


def request_key(body: str, signature: str) -> RequestKey:
    """An Events API callback is remembered by its `event_id` (Slack signs each retry
    afresh); anything else by its signature, which covers its timestamp and body."""
    if body.startswith("{"):
        try:
            doc = json.loads(body)
        except ValueError:
            doc = None
        event_id = doc.get("event_id") if isinstance(doc, dict) else None
        if isinstance(event_id, str) and event_id:
            return RequestKey(f"event:{event_id}"[:200], Repeat.RETRY)
    return RequestKey(f"signature:{signature}"[:200], Repeat.REPLAY)


@dataclass(frozen=True)
class SlackOrigin:
    """The workspace (`T…`) and Enterprise Grid organisation (`E…`) a request names."""

    team_id: str | None
    enterprise_id: str | None


def workspace_refusal(origin: SlackOrigin, *, own_team: str | None,
                      enterprises: Collection[str] = ()) -> str | None:
    """Why a request from `origin` is refused by a bot installed in `own_team`; None: taken.
    Configured Grid organisations (`enterprises`) let every workspace in them in (an
    org-wide install's requests may name the organisation where a workspace would be)."""
    if origin.team_id is not None and origin.team_id == own_team:
        return None
    if any(found in enterprises for found in (origin.enterprise_id, origin.team_id)
           if found is not None):
        return None
    if own_team is None and not enterprises:
        return ("the bot does not know its own Slack workspace yet (Slack did not answer "
                "auth.test; set SLACK_TEAM_ID)")
    named = origin.team_id or origin.enterprise_id
    if named is None:
        return "the request names no Slack workspace"
    return f"the request comes from another Slack workspace ({named})"
