"""Which of the team's own buttons (`buttons:` in the config) a card shows, and for what.

A button about the card shows once; a button with `when.checks` shows once for each
matching check, so "Build without tests" starts the job of the build that failed. A button
whose placeholders this card cannot fill (a `{pr}` without a pull request, a `{job}` on a
GitHub check) does not show.
"""

from __future__ import annotations

from fnmatch import fnmatchcase
from typing import Any
from urllib.parse import quote

from correlation.card import CheckLine, CommitCard
from correlation.mrkdwn import clip
from devexbot.actions.ids import ActionId, ButtonValue
from devexbot.config import BotConfig
from devexbot.config.buttons import CustomButton
from devexbot.config.placeholders import fill, placeholder_values

MAX_PER_BUTTON = 5  # checks one button shows for; more would crowd out the card
MAX_URL = 3000  # Slack's limits for a button's url and value
MAX_VALUE = 2000


def _matches(name: str, globs: list[str]) -> bool:
    return any(fnmatchcase(name.lower(), glob.lower()) for glob in globs)


def button_subjects(button: CustomButton, card: CommitCard) -> list[CheckLine | None]:
    """What the button shows for on this card: `[None]` (the card itself), its matching
    checks, or nothing."""
    when = button.when
    if card.superseded_by or not _matches(card.repo, when.repos):
        return []
    if when.checks is None:
        return [None] if card.overall in when.status else []
    checks = when.checks
    found = [c for c in card.checks if c.status in when.status and _matches(c.name, checks)]
    return list(found[:MAX_PER_BUTTON])


def link_url(button: CustomButton, card: CommitCard, check: CheckLine | None) -> str | None:
    """The link button's address on this card; values are URL-encoded (a branch's `&` or
    `#` stays part of the value), `/` is kept so `{repo}` and `{branch}` read as paths."""
    url = fill(button.link or "", placeholder_values(card, check),
               encode=lambda value: quote(value, safe="/"))
    return url if url and len(url) <= MAX_URL else None


def fillable(button: CustomButton, card: CommitCard, check: CheckLine | None) -> bool:
    """Every placeholder of the button has a value on this card (and check)."""
    values = placeholder_values(card, check)
    return all(fill(template, values) is not None for template in button.templates)


def custom_buttons(card: CommitCard, config: BotConfig) -> list[dict[str, Any]]:
    """The Block Kit elements of the team's buttons that apply to the card now."""
    elements: list[dict[str, Any]] = []
    seen: set[str] = set()
    for button in config.buttons:
        for check in button_subjects(button, card):
            element = _element(button, card, check)
            if element is not None and element["action_id"] not in seen:
                seen.add(element["action_id"])
                elements.append(element)
    return elements


def _element(button: CustomButton, card: CommitCard,
             check: CheckLine | None) -> dict[str, Any] | None:
    label = button.label if check is None else f"{button.label}: {check.name}"
    element: dict[str, Any] = {
        "type": "button",
        "text": {"type": "plain_text", "text": clip(label, 75), "emoji": True},
    }
    about = check.name if check is not None else ""
    if button.kind == "link":
        url = link_url(button, card, check)
        if url is None:
            return None
        element["action_id"] = f"{ActionId.LINK.value}:{button.key}:{about}"[:255]
        element["url"] = url
        return element
    if not fillable(button, card, check):
        return None
    value = ButtonValue(r=card.repo, s=card.sha, t=check.name if check else None, b=button.key)
    element["action_id"] = f"{ActionId.CUSTOM.value}:{button.key}:{about}"[:255]
    element["value"] = value.encode()
    if len(element["value"]) > MAX_VALUE:
        return None
    if button.confirm:
        element["confirm"] = {
            "title": {"type": "plain_text", "text": clip(f"{button.label}?", 100)},
            "text": {"type": "plain_text", "text": button.confirm},
            "confirm": {"type": "plain_text", "text": "Go"},
            "deny": {"type": "plain_text", "text": "Cancel"},
        }
    return element
