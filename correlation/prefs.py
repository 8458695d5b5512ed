"""A person's notification preferences (`/devex me`, the Home tab): what they are, how a
change is read from the words of `/devex me …`, and whether a moment falls in quiet hours.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = [
    "USAGE",
    "PrefChange",
    "PrefError",
    "PrefName",
    "Prefs",
    "QuietHours",
    "is_quiet",
    "parse_pref_change",
    "quiet_ends_at",
]

USAGE = ("`/devex me` shows your settings; change one with `/devex me dm-failures on|off`, "
         "`/devex me dm-reviews on|off`, `/devex me mute-own on|off` or "
         "`/devex me quiet 22:00-08:00|off`")
_QUIET = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)-([01]?\d|2[0-3]):([0-5]\d)$")


class PrefName(StrEnum):
    """A preference, named as `/devex me` and the Home tab's buttons name it."""

    DM_FAILURES = "dm-failures"  # DM me when my commits fail
    DM_REVIEWS = "dm-reviews"  # DM me when my PR is approved or changes are requested
    MUTE_OWN = "mute-own"  # never notify me about my own actions
    QUIET = "quiet"  # no pings during these hours: what they would say comes as one digest


@dataclass(frozen=True)
class QuietHours:
    """From `start` to `end` on the person's wall clock; over midnight when end < start."""

    start: time
    end: time

    def __str__(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M}"

    def covers(self, moment: time) -> bool:
        if self.start <= self.end:
            return self.start <= moment < self.end
        return moment >= self.start or moment < self.end


@dataclass(frozen=True)
class Prefs:
    """What one person chose; everything off by default. `tz` is their Slack time zone."""

    dm_failures: bool = False
    dm_reviews: bool = False
    mute_own: bool = False
    quiet: QuietHours | None = None
    tz: str | None = None


NO_PREFS = Prefs()


class PrefError(ValueError):
    """Words `/devex me` cannot read; the message is one line with a hint."""


@dataclass(frozen=True)
class PrefChange:
    """One setting changed: a flag on or off, or quiet hours set (None: off)."""

    name: PrefName
    on: bool = False
    quiet: QuietHours | None = None

    def applied(self, prefs: Prefs) -> Prefs:
        if self.name is PrefName.QUIET:
            return replace(prefs, quiet=self.quiet)
        if self.name is PrefName.DM_FAILURES:
            return replace(prefs, dm_failures=self.on)
        if self.name is PrefName.DM_REVIEWS:
            return replace(prefs, dm_reviews=self.on)
        return replace(prefs, mute_own=self.on)

    def __str__(self) -> str:
        if self.name is PrefName.QUIET:
            return f"quiet {self.quiet or 'off'}"
        return f"{self.name.value} {'on' if self.on else 'off'}"


def parse_pref_change(words: Sequence[str]) -> PrefChange | None:
    """The change `/devex me <words>` asks for; None for no words (show the settings).
    Raises `PrefError` for anything else."""
    if not words:
        return None
    name, *rest = (w.strip() for w in words)
    try:
        pref = PrefName(name.lower())
    except ValueError:
        raise PrefError(f"I don't know the setting `{name}`. {USAGE}") from None
    if len(rest) != 1:
        wanted = "`22:00-08:00` or `off`" if pref is PrefName.QUIET else "`on` or `off`"
        raise PrefError(f"`/devex me {pref.value}` takes one word: {wanted}.")
    value = rest[0].lower()
    if pref is PrefName.QUIET:
        if value == "off":
            return PrefChange(pref, quiet=None)
        return PrefChange(pref, quiet=parse_quiet(value))
    if value not in ("on", "off"):
        raise PrefError(f"`{rest[0]}` is not `on` or `off`: try `/devex me {pref.value} on`.")
    return PrefChange(pref, on=value == "on")


def parse_quiet(text: str) -> QuietHours:
    """`22:00-08:00` (24-hour clock, in the person's time zone)."""
    found = _QUIET.match(text.strip())
    if found is None:
        raise PrefError(f"`{text}` is not a span of hours: try `/devex me quiet 22:00-08:00` "
                        "(24-hour clock, your Slack time zone) or `/devex me quiet off`.")
    h1, m1, h2, m2 = (int(g) for g in found.groups())
    quiet = QuietHours(time(h1, m1), time(h2, m2))
    if quiet.start == quiet.end:
        raise PrefError("Quiet hours must start and end at different times, "
                        "e.g. `/devex me quiet 22:00-08:00`.")
    return quiet


def zone(tz: str | None) -> ZoneInfo:
    """The person's time zone; UTC when Slack gave none or one this machine does not know."""
    try:
        return ZoneInfo(tz) if tz else ZoneInfo("UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def is_quiet(prefs: Prefs, now: datetime) -> bool:
    """Whether `now` falls in the person's quiet hours, on their own clock."""
    if prefs.quiet is None:
        return False
    local = now.astimezone(zone(prefs.tz))
    return prefs.quiet.covers(local.time().replace(second=0, microsecond=0))


def quiet_ends_at(prefs: Prefs, now: datetime) -> datetime | None:
    """When the quiet hours `now` falls in end (in UTC); None when `now` is not quiet."""
    if prefs.quiet is None or not is_quiet(prefs, now):
        return None
    tz = zone(prefs.tz)
    local = now.astimezone(tz)
    end = datetime.combine(local.date(), prefs.quiet.end, tzinfo=tz)
    if end <= local:
        end = datetime.combine(local.date() + timedelta(days=1), prefs.quiet.end, tzinfo=tz)
    return end.astimezone(UTC)


def describe(prefs: Prefs) -> list[str]:
    """The settings, one line each, as `/devex me` and the Home tab show them."""
    def flag(on: bool) -> str:
        return "on" if on else "off"

    quiet = f"{prefs.quiet} ({prefs.tz or 'UTC'})" if prefs.quiet else "off"
    return [
        f"DM me when my commits fail (`dm-failures`): *{flag(prefs.dm_failures)}*",
        f"DM me when my PR is approved or changes are requested (`dm-reviews`): "
        f"*{flag(prefs.dm_reviews)}*",
        f"Never notify me about my own actions (`mute-own`): *{flag(prefs.mute_own)}*",
        f"Quiet hours, no pings then, one digest after (`quiet`): *{quiet}*",
    ]
