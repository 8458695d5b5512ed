"""Which of the team's own buttons (`buttons:` in the config) a card shows, and for what.

A button about the card shows once; a button with `when.checks` shows once for each
matching check, so "Build without tests" starts the job of the build that failed. A button
whose placeholders this card cannot fill (a `{pr}` without a pull request, a `{job}` on a
GitHub check) does not show.

A Jenkins build's job, number and parameters on a card are what a notification said, and
any pipeline holding the notification token can say anything. A button that re-uses them
(`{job}`, `{build_number}`, `same_parameters`) reads the build from Jenkins at the click:
it starts with the parameters Jenkins recorded, and is refused for a build that Jenkins
says checked out another commit (`correlation.retry.built_elsewhere`, as Retry is).
"""

from __future__ import annotations

from collections.abc import Iterable
from fnmatch import fnmatchcase
from urllib.parse import quote

from correlation.button_blocks import ActionId, Button, ButtonRef, Confirm
from correlation.card import CheckLine, CommitCard
from correlation.mrkdwn import clip
from correlation.placeholders import fill, placeholder_values, placeholders_in
from correlation.policies import ButtonPolicy

__all__ = ["button_subjects", "custom_buttons", "fillable", "link_url", "reuses_build"]

MAX_PER_BUTTON = 5  # checks one button shows for; more would crowd out the card
MAX_URL = 3000  # Slack's limits for a button's url and value
MAX_VALUE = 2000
BUILD_PLACEHOLDERS = frozenset({"job", "build_number"})  # the notification's word for them


def _matches(name: str, globs: Iterable[str]) -> bool:
    return any(fnmatchcase(name.lower(), glob.lower()) for glob in globs)


def _own_name(check: CheckLine) -> str:
    own = check.details.get("display_name")
    return own if isinstance(own, str) else check.name


def button_subjects(button: ButtonPolicy, card: CommitCard) -> list[CheckLine | None]:
    """What the button shows for on this card: `[None]` (the card itself), its matching
    checks, or nothing."""
    if card.superseded_by or not _matches(card.repo, button.repos):
        return []
    if button.checks is None:
        return [None] if card.overall in button.statuses else []
    checks = button.checks
    # A workflow that ran twice on the commit shows "CI (push) / test": `CI / test` still
    # names it (its own name), as does a glob of the name shown.
    found = [c for c in card.checks if c.status in button.statuses
             and (_matches(c.name, checks) or _matches(_own_name(c), checks))]
    return list(found[:MAX_PER_BUTTON])


def link_url(button: ButtonPolicy, card: CommitCard, check: CheckLine | None) -> str | None:
    """The link button's address on this card; values are URL-encoded (a branch's `&` or
    `#` stays part of the value), `/` is kept so `{repo}` and `{branch}` read as paths."""
    url = fill(button.link or "", placeholder_values(card, check),
               encode=lambda value: quote(value, safe="/"))
    return url if url and len(url) <= MAX_URL else None


def fillable(button: ButtonPolicy, card: CommitCard, check: CheckLine | None) -> bool:
    """Every placeholder of the button has a value on this card (and check)."""
    values = placeholder_values(card, check)
    return all(fill(template, values) is not None for template in button.templates)


def reuses_build(button: ButtonPolicy, check: CheckLine | None) -> bool:
    """Whether the button takes something of `check`'s Jenkins build (its job, number or
    parameters): then the click reads that build from Jenkins first."""
    if button.kind != "jenkins" or check is None or check.source != "jenkins":
        return False
    return button.same_parameters or any(placeholders_in(t) & BUILD_PLACEHOLDERS
                                         for t in button.templates)


def custom_buttons(card: CommitCard, buttons: Iterable[ButtonPolicy]) -> list[Button]:
    """The team's buttons that apply to the card now."""
    shown: list[Button] = []
    seen: set[str] = set()
    for button in buttons:
        for check in button_subjects(button, card):
            element = _button(button, card, check)
            if element is not None and element.action_id not in seen:
                seen.add(element.action_id)
                shown.append(element)
    return shown


def _button(button: ButtonPolicy, card: CommitCard, check: CheckLine | None) -> Button | None:
    label = clip(button.label if check is None else f"{button.label}: {check.name}", 75)
    about = check.name if check is not None else ""
    if button.kind == "link":
        url = link_url(button, card, check)
        if url is None:
            return None
        return Button(f"{ActionId.LINK.value}:{button.key}:{about}"[:255], label, url=url)
    if not fillable(button, card, check):
        return None
    value = ButtonRef(card.repo, card.sha, target=check.name if check else None,
                      button=button.key)
    if len(value.encode()) > MAX_VALUE:
        return None
    confirm = None
    if button.confirm:
        confirm = Confirm(clip(f"{button.label}?", 100), button.confirm, "Go")
    return Button(f"{ActionId.CUSTOM.value}:{button.key}:{about}"[:255], label, value=value,
                  confirm=confirm)
