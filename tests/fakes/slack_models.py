"""What the fake Slack remembers, as plain data a test asserts on (snapshots, not live objects)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

Json = dict[str, Any]

# Who the fake workspace and its installed bot are; `tests/slack_signing` uses the same.
TEAM_ID = "T0DEVEXBOT"
TEAM_NAME = "Devexbot Test"
TEAM_DOMAIN = "devexbot-test"
APP_ID = "A0DEVEXBOT"
BOT_ID = "B0DEVEXBOT"
BOT_USER_ID = "U0DEVEXBOT"
BOT_NAME = "devexbot"
USER_ID, USER_NAME = "U0ANA", "ana"  # the human who types commands and clicks buttons


@dataclass(frozen=True)
class MessageVersion:
    """One state of a message: the original post, then one per accepted edit."""

    text: str
    blocks: list[Json]
    attachments: list[Json]
    at: float  # wall-clock time the version was accepted


@dataclass
class Message:
    """A message in a channel as Slack stores it; `history[-1]` is the current version."""

    channel: str
    ts: str
    user: str
    text: str
    blocks: list[Json]
    attachments: list[Json] = field(default_factory=list)
    thread_ts: str | None = None
    bot_id: str | None = None
    app_id: str | None = None
    team: str | None = None
    metadata: Json | None = None
    reply_broadcast: bool = False
    history: list[MessageVersion] = field(default_factory=list)
    deleted: bool = False
    edited_ts: str | None = None  # Slack's `edited.ts` of the latest update

    @property
    def is_reply(self) -> bool:
        return self.thread_ts is not None and self.thread_ts != self.ts

    @property
    def updates(self) -> int:
        """How many accepted `chat.update`s (or `replace_original`s) changed this message."""
        return max(len(self.history) - 1, 0)


@dataclass(frozen=True)
class Ephemeral:
    """An ephemeral message: only `user` saw it, it is in no channel history."""

    channel: str
    user: str
    message_ts: str
    text: str
    blocks: list[Json]
    thread_ts: str | None
    via: str  # "chat.postEphemeral" or "response_url"


@dataclass
class Call:
    """One request the fake received: what was asked, when, and what it answered."""

    method: str
    params: Json
    received_at: float  # wall clock
    monotonic: float  # time.monotonic() at receipt, for spacing checks
    http_method: str
    content_type: str
    status: int | None = None  # HTTP status answered; None while in flight or if dropped
    response: Json | None = None
    answered_at: float | None = None  # wall clock when answered (or dropped)
    fault: str | None = None  # "fail", "hang", "drop", "rate", "ratelimit" when scripted

    @property
    def ok(self) -> bool:
        return bool(self.response and self.response.get("ok"))

    @property
    def error(self) -> str | None:
        return None if self.response is None else self.response.get("error")


@dataclass(frozen=True)
class RateViolation:
    """Two accepted `chat.postMessage`s to one channel closer than the allowed interval."""

    channel: str
    earlier_ts: str
    later_ts: str
    gap: float  # seconds between their arrivals


@dataclass
class Channel:
    """A conversation the workspace knows; `is_member` is whether the bot is in it."""

    id: str
    name: str
    is_private: bool = False
    is_member: bool = True
    is_archived: bool = False
    is_im: bool = False
    user: str | None = None  # the other party of a DM
    created: int = 1700000000


@dataclass
class ResponseUrl:
    """A `response_url` the fake issued, with what it is tied to and what was posted to it."""

    url: str
    channel: str
    user: str
    message_ts: str | None
    thread_ts: str | None
    posts: list[Json] = field(default_factory=list)
