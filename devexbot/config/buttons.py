"""The `buttons:` section of the config: the team's own buttons on cards.

A button shows on a card of `when.repos` whose overall status is one of `when.status` or,
with `when.checks`, once for each check of those names in one of those statuses. It starts
a Jenkins job, runs a runbook command, or opens a link; placeholders
(`correlation.placeholders`) fill in the commit's and the check's details.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, field_validator, model_validator

from correlation import policies
from correlation.placeholders import CHECK_PLACEHOLDERS, placeholders_in
from correlation.status import Status
from devexbot.config.base import Strict

ButtonKind = Literal["jenkins", "runbook", "link"]


def _template(value: str) -> str:
    placeholders_in(value)  # a ValueError names the bad placeholder
    return value


Template = Annotated[str, AfterValidator(_template)]


def _as_list(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


def _scalars_as_text(value: Any) -> Any:
    """`SKIP_TESTS: true` means the text Jenkins expects, `"true"`; numbers likewise."""
    if not isinstance(value, dict):
        return value
    out = {}
    for key, item in value.items():
        if isinstance(item, bool):
            item = "true" if item else "false"
        elif isinstance(item, int | float):
            item = str(item)
        out[key] = item
    return out


class ButtonWhen(Strict):
    """When a button shows: statuses, repo globs, and check-name globs (one button each)."""

    status: list[Status] = Field(default_factory=lambda: list(Status), min_length=1)
    repos: list[str] = Field(default_factory=lambda: ["*"], min_length=1)
    checks: list[str] | None = Field(default=None, min_length=1)

    _lists = field_validator("status", "repos", "checks", mode="before")(_as_list)


class JenkinsJob(Strict):
    """Start a Jenkins job: `{job}` is the failed build's own job."""

    job: Template = Field(min_length=1)
    parameters: dict[str, Template] = Field(default_factory=dict)
    same_parameters: bool = False  # start from the parameters the check's build ran with

    _text = field_validator("parameters", mode="before")(_scalars_as_text)


class RunbookCall(Strict):
    """Run one of the bot's runbook commands with these arguments."""

    command: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,99}$")
    args: dict[str, Template] = Field(default_factory=dict)

    _text = field_validator("args", mode="before")(_scalars_as_text)


class CustomButton(Strict):
    """One of the team's own buttons: a label, when it shows, and what it does."""

    label: str = Field(min_length=1, max_length=75)  # Slack's limit for a button's text
    id: str | None = Field(default=None, pattern=r"^[a-z0-9][a-z0-9_-]{0,39}$")
    when: ButtonWhen = Field(default_factory=ButtonWhen)
    jenkins: JenkinsJob | None = None
    runbook: RunbookCall | None = None
    link: Template | None = Field(default=None, max_length=3000)
    confirm: str | None = Field(default=None, min_length=1, max_length=300)

    @property
    def key(self) -> str:
        """The button's id: stable across label edits when `id` is given."""
        return self.id or (re.sub(r"[^a-z0-9]+", "-", self.label.lower()).strip("-")[:40]
                           or "button")

    @property
    def kind(self) -> ButtonKind:
        if self.jenkins is not None:
            return "jenkins"
        return "runbook" if self.runbook is not None else "link"

    @property
    def templates(self) -> list[str]:
        """Every text the button fills placeholders in."""
        if self.jenkins is not None:
            return [self.jenkins.job, *self.jenkins.parameters.values()]
        if self.runbook is not None:
            return list(self.runbook.args.values())
        return [self.link or ""]

    def policy(self) -> policies.ButtonPolicy:
        """What the decisions read of this button."""
        when = self.when
        return policies.ButtonPolicy(
            label=self.label, key=self.key, kind=self.kind, templates=tuple(self.templates),
            link=self.link, confirm=self.confirm, statuses=tuple(when.status),
            repos=tuple(when.repos), checks=None if when.checks is None else tuple(when.checks),
            same_parameters=self.jenkins is not None and self.jenkins.same_parameters)

    @model_validator(mode="after")
    def _one_thing_to_do(self) -> CustomButton:
        kinds = [k for k in ("jenkins", "runbook", "link") if getattr(self, k) is not None]
        if len(kinds) != 1:
            raise ValueError("a button does exactly one of `jenkins`, `runbook` or `link`"
                             + (f" (this one has {' and '.join(kinds)})" if kinds else ""))
        if self.link is not None:
            if not re.match(r"https?://[^/{}\s]", self.link):
                raise ValueError("a link starts with https:// (or http://) and a host")
            if self.confirm is not None:
                raise ValueError("a link opens in the browser: it takes no `confirm`")
        used = {n for t in self.templates for n in placeholders_in(t)}
        check_only = sorted(used & set(CHECK_PLACEHOLDERS))
        if check_only and self.when.checks is None:
            raise ValueError(f"{{{check_only[0]}}} names a check: say which in `when.checks`")
        if self.jenkins is not None and self.jenkins.same_parameters and not self.when.checks:
            raise ValueError("`same_parameters` takes a build's parameters: say which checks "
                             "in `when.checks`")
        return self


def unique_keys(buttons: list[CustomButton]) -> list[CustomButton]:
    """Buttons with distinct ids (a label's slug unless `id` is given)."""
    seen: dict[str, int] = {}
    for i, button in enumerate(buttons):
        if button.key in seen:
            raise ValueError(f"[{i}] has the id {button.key!r} of [{seen[button.key]}]: give "
                             "one its own `id`")
        seen[button.key] = i
    return buttons
