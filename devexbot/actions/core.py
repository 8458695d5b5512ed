"""What every action is made of: the click, the card it is about, what the action did, and
the refusal that tells the clicker why not.

An action is an object built with the few things it uses (GitHub, Jenkins, the approval
parts); `Actions` (devexbot.actions.registry) runs each click through the one path.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from correlation.card import CommitCard
from devexbot.actions.ids import ActionId, ButtonValue
from devexbot.errors import DevexbotError


class Refused(DevexbotError):
    """The action is not allowed or not possible now; the message says why, to the clicker."""


@dataclass(frozen=True)
class Click:
    """A button press, as the action code needs it."""

    action: ActionId
    value: ButtonValue
    user_id: str
    channel_id: str | None = None
    message_ts: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)  # e.g. a modal's reason


@dataclass(frozen=True)
class Outcome:
    """What an action did: the clicker's reply, and the stamp the card gets."""

    reply: str
    stamp: str | None = None
    until_news_of: tuple[str, str, str] | None = None  # the stamp goes when this slot has news
    target: str | None = None
    environment: str | None = None


@dataclass(frozen=True)
class ActionContext:
    """One click on one card, as the action sees it."""

    click: Click
    card: CommitCard
    github_login: str | None  # the clicker's, through the `people:` map


@dataclass(frozen=True)
class ActionSpec:
    """Which button an action answers, and who may press it."""

    action: ActionId
    permission: str  # the key under `permissions:` that says who may; `policy:…` checks itself
    verb: str | None = None  # "you may not <verb> on octo/app"; the permission's name if None


class Action(Protocol):
    """An action a card button takes: its spec, its claim, and the work."""

    @property
    def spec(self) -> ActionSpec: ...

    def claim_key(self, ctx: ActionContext) -> str | None:
        """The claim that makes the action happen once; None: repeatable."""
        ...

    def __call__(self, ctx: ActionContext) -> Outcome: ...


def slack_time(moment: datetime) -> str:
    """A time every reader sees in their own time zone (Slack's date token)."""
    epoch = int(moment.timestamp())
    return f"<!date^{epoch}^{{time}}|{moment:%H:%M} UTC>"
