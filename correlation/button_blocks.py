"""A card's buttons and menus as data, and as the Block Kit elements Slack draws.

`correlation.buttons` decides which a card shows; the web card reads the same elements.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Literal

__all__ = ["ActionId", "Button", "ButtonRef", "Confirm", "Menu", "button_elements"]


class ActionId(StrEnum):
    MERGE = "card.merge"
    ENQUEUE = "card.enqueue"  # add the pull request to GitHub's merge queue
    RETRY = "card.retry"
    APPROVE = "card.approve"
    REJECT = "card.reject"
    REQUEST_REVIEW = "card.request_review"
    LABEL = "card.label"
    CUSTOM = "card.custom"
    LINK = "card.link"  # a URL button: Slack opens the page and tells us; nothing to do


@dataclass(frozen=True)
class ButtonRef:
    """What a button carries back: which card and which part of it, as compact JSON with
    short keys (Slack caps a value at 2000 characters)."""

    repo: str
    sha: str
    target: str | None = None  # check, environment or button name
    pr: int | None = None
    method: str | None = None  # merge method
    button: str | None = None  # a custom button's id
    slot: tuple[str, str, str] | None = None  # the check's slot: it outlives a renamed line

    def encode(self) -> str:
        fields = {"r": self.repo, "s": self.sha, "t": self.target, "n": self.pr,
                  "m": self.method, "b": self.button,
                  "l": list(self.slot) if self.slot else None}
        return json.dumps({k: v for k, v in fields.items() if v is not None},
                          separators=(",", ":"), ensure_ascii=False)


@dataclass(frozen=True)
class Confirm:
    """The "are you sure?" dialog a button opens first."""

    title: str
    text: str
    go: str


@dataclass(frozen=True)
class Button:
    """A button: it carries `value` back to the bot, or opens `url`."""

    action_id: str
    label: str
    value: ButtonRef | None = None
    url: str | None = None
    style: Literal["primary", "danger"] | None = None
    confirm: Confirm | None = None


@dataclass(frozen=True)
class Menu:
    """A menu whose options Slack asks the bot for as the user types (`external_select`)."""

    action_id: str
    placeholder: str


def button_elements(elements: Iterable[Button | Menu]) -> list[dict[str, Any]]:
    """The Block Kit elements of an `actions` block."""
    return [_menu(e) if isinstance(e, Menu) else _button(e) for e in elements]


def _button(button: Button) -> dict[str, Any]:
    element: dict[str, Any] = {
        "type": "button",
        "text": {"type": "plain_text", "text": button.label, "emoji": True},
        "action_id": button.action_id,
    }
    if button.url is not None:
        element["url"] = button.url
    if button.value is not None:
        element["value"] = button.value.encode()
    if button.style:
        element["style"] = button.style
    if button.confirm:
        element["confirm"] = {
            "title": {"type": "plain_text", "text": button.confirm.title},
            "text": {"type": "plain_text", "text": button.confirm.text},
            "confirm": {"type": "plain_text", "text": button.confirm.go},
            "deny": {"type": "plain_text", "text": "Cancel"},
        }
    return element


def _menu(menu: Menu) -> dict[str, Any]:
    return {
        "type": "external_select",
        "action_id": menu.action_id,
        "placeholder": {"type": "plain_text", "text": menu.placeholder},
        "min_query_length": 0,  # load the list when the menu opens
    }
