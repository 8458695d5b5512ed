"""Working time in the team's time zone: when people are at work, and how much working time
lies between two moments. Pure: no clock is read here, every moment is given."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from correlation.policies import NoticePolicy


@dataclass(frozen=True)
class WorkingCalendar:
    """Working hours (from `start` to `end`, local time) on working days, except holidays."""

    zone: ZoneInfo
    start: time
    end: time
    days: frozenset[int]  # 0 = Monday
    holidays: frozenset[date] = frozenset()

    @classmethod
    def of(cls, notices: NoticePolicy) -> WorkingCalendar:
        return cls(zone=ZoneInfo(notices.timezone), start=notices.working_start,
                   end=notices.working_end, days=notices.working_days,
                   holidays=notices.holidays)

    def is_working_time(self, moment: datetime) -> bool:
        """Whether `moment` falls in working hours; outside them is quiet time."""
        local = moment.astimezone(self.zone)
        return self._works_on(local.date()) and self.start <= local.time() < self.end

    def working_time(self, since: datetime, until: datetime) -> timedelta:
        """The working time between two moments (zero when `until` is not after `since`)."""
        total = timedelta()
        for opens, closes in self._windows(since, until):
            total += min(closes, until) - max(opens, since)
        return total

    def _works_on(self, day: date) -> bool:
        return day.weekday() in self.days and day not in self.holidays

    def _windows(self, since: datetime, until: datetime) -> Iterable[tuple[datetime, datetime]]:
        """Each working day's hours, as UTC moments, that overlap [since, until)."""
        if until <= since:
            return
        day, last = since.astimezone(self.zone).date(), until.astimezone(self.zone).date()
        while day <= last:
            if self._works_on(day):
                opens = datetime.combine(day, self.start, self.zone).astimezone(UTC)
                closes = datetime.combine(day, self.end, self.zone).astimezone(UTC)
                if opens < until and closes > since:
                    yield opens, closes
            day += timedelta(days=1)
