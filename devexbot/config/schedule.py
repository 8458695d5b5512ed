"""`schedule:` and `retention:`: when people are nudged, and how long data is kept."""

from __future__ import annotations

from datetime import date, time, timedelta
from typing import Any

from pydantic import Field, field_validator

from correlation.policies import NoticePolicy
from correlation.routing import RouteRule
from devexbot.config.base import WEEKDAYS, Strict, Weekday
from devexbot.config.routes import Route


def _working_days() -> list[Weekday]:
    return ["mon", "tue", "wed", "thu", "fri"]


class Schedule(Strict):
    """When people are at work (nudges wait for it) and when nudges and stuck notes are due.

    Hours are working hours for reviews, clock hours for approvals; 0 turns a nudge off.
    """

    timezone: str = "UTC"
    working_hours: str = "09:00-18:00"
    working_days: list[Weekday] = Field(default_factory=_working_days)
    holidays: list[date] = Field(default_factory=list)
    review_nudge_after_hours: float = Field(default=4, ge=0)
    approval_nudge_after_hours: float = Field(default=2, ge=0)
    # Deprecated: the expiry of environments whose policy sets no `expires_after`.
    approval_expires_after_hours: float = Field(default=24, ge=0)
    stuck_after_minutes: float = Field(default=30, ge=0)
    max_nudges: int = Field(default=3, ge=0)  # per pull request or approval request
    check_every_minutes: float = Field(default=5, gt=0, le=60)

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r} (an IANA name such as "
                             "Europe/Berlin)") from None
        return value

    @field_validator("working_hours")
    @classmethod
    def _hours_range(cls, value: str) -> str:
        parse_working_hours(value)
        return value

    @property
    def working_window(self) -> tuple[time, time]:
        """`working_hours` as (start, end) local times."""
        return parse_working_hours(self.working_hours)

    def policy(self) -> NoticePolicy:
        """What the nudges and notes read of these settings."""
        start, end = self.working_window
        return NoticePolicy(
            timezone=self.timezone, working_start=start, working_end=end,
            working_days=frozenset(WEEKDAYS.index(d) for d in self.working_days),
            holidays=frozenset(self.holidays),
            review_nudge_after=timedelta(hours=self.review_nudge_after_hours),
            approval_nudge_after=timedelta(hours=self.approval_nudge_after_hours),
            stuck_after=timedelta(minutes=self.stuck_after_minutes),
            max_nudges=self.max_nudges)

    def for_route(self, route: Route | RouteRule | None) -> Schedule:
        """These settings with a route's overrides applied."""
        if route is None:
            return self
        overrides = dict((route.rule() if isinstance(route, Route) else route).schedule)
        return self.model_copy(update=overrides) if overrides else self


def parse_working_hours(value: str) -> tuple[time, time]:
    """`"09:00-18:00"` as (09:00, 18:00); the end must come after the start."""
    try:
        start, end = (time.fromisoformat(part.strip()) for part in value.split("-"))
    except ValueError:
        raise ValueError(f"{value!r} is not a range of times like 09:00-18:00") from None
    if end <= start:
        raise ValueError(f"{value!r} ends before it starts (working hours cannot span "
                         "midnight)")
    return start, end


class Retention(Strict):
    """How long stored data is kept, in days; null keeps it forever."""

    events_days: int | None = Field(default=30, ge=1)
    deliveries_days: int | None = Field(default=30, ge=1)
    cards_days: int | None = Field(default=None, ge=1)
    audit_days: int | None = Field(default=None, ge=1)
    metrics_days: int | None = Field(default=None, ge=1)  # the delivery metrics' history
    batch_size: int = Field(default=1000, ge=1, le=100_000)
    run_at: time = time(3, 30)  # daily, in the schedule's time zone

    @field_validator("run_at", mode="before")
    @classmethod
    def _quoted_time(cls, value: Any) -> Any:
        # YAML reads an unquoted 3:30 as the number 210 (base 60).
        if isinstance(value, int):
            raise ValueError('write the time in quotes, like "03:30"')
        return value
