"""Which nudges and notes are due, decided from plain cards and a controllable clock."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from correlation.calendar import WorkingCalendar
from correlation.card import Approval, CommitCard, PullRequest
from correlation.nudges import (
    Nudge,
    NudgeSubject,
    due_nudges,
    expired_approvals,
    stuck_checks,
)
from correlation.reminders import duration
from correlation.status import Status
from devexbot.config import BotConfig, Retention, Schedule, parse_config
from devexbot.errors import ConfigError
from tests.cards import SHA, card, check, deployment

BERLIN = ZoneInfo("Europe/Berlin")
SCHEDULE = Schedule(timezone="Europe/Berlin")  # 09:00-18:00 Mon-Fri; review 4 h, approval 2 h
CALENDAR = WorkingCalendar.of(SCHEDULE.policy())
CONFIG = BotConfig(schedule=SCHEDULE)  # no approval policies: requests expire after 24 h
POLICIES = CONFIG.policies()


def berlin(day: int, hour: int, minute: int = 0) -> datetime:
    """A moment of November 2026 in Berlin (the 20th is a Friday), as UTC."""
    return datetime(2026, 11, day, hour, minute, tzinfo=BERLIN).astimezone(UTC)


def pr_card(**pr: object) -> CommitCard:
    fields: dict[str, object] = {"number": 12, "title": "Add login page", "state": "open",
                                 "url": "https://github.com/octo-org/octo-app/pull/12",
                                 "review": "pending", "head_sha": SHA, "author": "ana"}
    fields.update(pr)
    return card(pull_request=PullRequest(**fields))  # type: ignore[arg-type]


class Clock:
    """Runs the planner at chosen moments, remembering what was sent, as the outbox does."""

    def __init__(self, card_: CommitCard, *, schedule: Schedule = SCHEDULE,
                 review_since: datetime | None = None) -> None:
        self.card, self.schedule, self.review_since = card_, schedule, review_since
        self.sent: list[Nudge] = []

    def at(self, moment: datetime) -> list[Nudge]:
        subject = NudgeSubject(card=self.card, notices=self.schedule.policy(),
                               sent=frozenset(n.key for n in self.sent),
                               review_since=self.review_since, requested_reviewers=("ben",))
        due = due_nudges(subject, moment, WorkingCalendar.of(self.schedule.policy()),
                         BotConfig(schedule=self.schedule).policies())
        self.sent += due
        return due

    def every(self, start: datetime, end: datetime, step: timedelta = timedelta(minutes=5)
              ) -> list[tuple[datetime, Nudge]]:
        """Run every `step` from `start` to `end`, as the scheduler's job does."""
        fired = []
        moment = start
        while moment <= end:
            fired += [(moment, n) for n in self.at(moment)]
            moment += step
        return fired


# --- the calendar ----------------------------------------------------------------------------


def test_working_time_counts_only_working_hours_on_working_days() -> None:
    assert CALENDAR.working_time(berlin(19, 15), berlin(20, 10)) == timedelta(hours=4)
    # Friday 16:00 to Monday 11:00: 2 h on Friday, 2 h on Monday, nothing at the weekend.
    assert CALENDAR.working_time(berlin(20, 16), berlin(23, 11)) == timedelta(hours=4)
    assert CALENDAR.working_time(berlin(21, 10), berlin(22, 17)) == timedelta(0)
    assert CALENDAR.working_time(berlin(20, 20), berlin(20, 8)) == timedelta(0)
    assert CALENDAR.is_working_time(berlin(20, 9)) and not CALENDAR.is_working_time(berlin(20, 18))
    assert not CALENDAR.is_working_time(berlin(21, 12))  # Saturday


def test_holidays_are_quiet_and_daylight_saving_changes_keep_local_hours() -> None:
    calendar = WorkingCalendar.of(Schedule(timezone="Europe/Berlin",
                                           holidays=[date(2026, 11, 23)]).policy())
    assert not calendar.is_working_time(berlin(23, 10))
    assert calendar.working_time(berlin(20, 17), berlin(24, 10)) == timedelta(hours=2)
    # Berlin goes to summer time on 29 March 2026: 09:00 local is 07:00 UTC after it.
    assert calendar.is_working_time(datetime(2026, 3, 30, 7, tzinfo=UTC))
    assert not calendar.is_working_time(datetime(2026, 3, 27, 7, tzinfo=UTC))


# --- review nudges -----------------------------------------------------------------------------


def test_a_review_nudge_fires_once_after_four_working_hours() -> None:
    # Ready on Thursday 15:00: 3 working hours that day, the 4th ends Friday 10:00.
    clock = Clock(pr_card(), review_since=berlin(19, 15))
    fired = clock.every(berlin(19, 15), berlin(20, 13, 55))
    assert [(moment, n.kind, n.number) for moment, n in fired] == [(berlin(20, 10), "review", 1)]
    (nudge,) = [n for _, n in fired]
    assert nudge.logins == ("ben",) and nudge.waited == timedelta(hours=4)
    assert nudge.key == "nudge:review:12:2026-11-19T14:00:00Z:1"
    # The next interval's nudge four working hours later, then none in the same interval.
    assert [n.number for n in clock.at(berlin(20, 14))] == [2]
    assert clock.at(berlin(20, 14, 5)) == []


def test_a_nudge_due_in_quiet_hours_waits_for_the_next_working_morning() -> None:
    # Ready Friday 16:00: 2 h on Friday, the other 2 h on Monday; the bot checks all along.
    clock = Clock(pr_card(), review_since=berlin(20, 16))
    fired = clock.every(berlin(20, 16), berlin(23, 12))
    assert [moment for moment, _ in fired] == [berlin(23, 11)]


def test_due_at_night_goes_at_nine_not_at_night() -> None:
    # 4 h counted by Friday 17:00 would be due at once, but the check runs at 18:30 (quiet):
    # nothing until Monday 09:00.
    clock = Clock(pr_card(), review_since=berlin(20, 9))
    assert clock.at(berlin(20, 18, 30)) == []
    assert clock.at(berlin(22, 12)) == []  # Sunday
    assert clock.at(berlin(23, 8, 59)) == []
    assert [n.number for n in clock.at(berlin(23, 9))] == [1]


def test_no_flood_after_a_three_day_downtime() -> None:
    clock = Clock(pr_card(), review_since=berlin(16, 9))  # Monday morning
    assert [n.number for n in clock.at(berlin(16, 13))] == [1]
    # The bot is down from Monday 13:05 to Thursday 13:05: six intervals went by unseen.
    after = clock.every(berlin(19, 13, 5), berlin(19, 13, 55))
    assert [(moment, n.number) for moment, n in after] == [(berlin(19, 13, 5), 2)]
    assert after[0][1].waited == timedelta(hours=31, minutes=5)
    assert after[0][1].key.endswith(":7")
    # Then the usual pace: the next interval starts at 32 working hours.
    assert [n.number for n in clock.at(berlin(19, 14))] == [3]


def test_at_most_max_nudges_per_pull_request() -> None:
    clock = Clock(pr_card(), review_since=berlin(16, 9))
    fired = clock.every(berlin(16, 9), berlin(20, 18), step=timedelta(minutes=30))
    assert [n.number for _, n in fired] == [1, 2, 3]
    assert {n.limit for _, n in fired} == {3}


@pytest.mark.parametrize(
    "pr",
    [{"draft": True}, {"review": "approved"}, {"review": "changes_requested"},
     {"state": "merged"}, {"head_sha": "f" * 40}],
    ids=["draft", "approved", "changes-requested", "merged", "not-the-head"],
)
def test_no_review_nudge_for_a_pr_that_does_not_wait_for_review(pr: dict[str, object]) -> None:
    assert Clock(pr_card(**pr), review_since=berlin(16, 9)).at(berlin(18, 12)) == []


def test_a_superseded_card_is_never_nudged() -> None:
    superseded = card(pull_request=pr_card().pull_request, superseded_by="f" * 40)
    assert Clock(superseded, review_since=berlin(16, 9)).at(berlin(18, 12)) == []


def test_a_routes_limits_override_the_global_ones() -> None:
    config = parse_config(
        "schedule: {timezone: Europe/Berlin, review_nudge_after_hours: 4}\n"
        "routes:\n"
        "  - repos: [octo-org/slow]\n"
        "    channel: C0SLOW\n"
        "    schedule: {review_nudge_after_hours: 8, max_nudges: 1}\n"
        "  - repos: ['*']\n"
        "    channel: C0ALL\n")
    slow = config.schedule.for_route(config.routes[0])
    assert (slow.review_nudge_after_hours, slow.max_nudges, slow.timezone) == (
        8, 1, "Europe/Berlin")
    assert config.schedule.for_route(config.routes[1]) == config.schedule
    clock = Clock(pr_card(), schedule=slow, review_since=berlin(16, 9))
    fired = clock.every(berlin(16, 9), berlin(18, 18), step=timedelta(minutes=30))
    assert [(moment, n.number) for moment, n in fired] == [(berlin(16, 17), 1)]


# --- approval nudges and expiry -----------------------------------------------------------------


def waiting_card(since: datetime) -> CommitCard:
    return card(deployments=(deployment(
        "production", Status.WAITING, updated_at=since,
        approval=Approval(state="waiting", reviewers=("ben", "cleo"))),))


def test_an_approval_nudge_counts_clock_hours_and_names_the_reviewers() -> None:
    clock = Clock(waiting_card(berlin(19, 10)))
    fired = clock.every(berlin(19, 10), berlin(19, 15))
    assert [(moment, n.kind, n.number, n.environment) for moment, n in fired] == [
        (berlin(19, 12), "approval", 1, "production"), (berlin(19, 14), "approval", 2,
                                                        "production")]
    assert fired[0][1].logins == ("ben", "cleo")
    assert fired[0][1].expires_in == timedelta(hours=22)


def test_an_approval_request_expires_instead_of_nudging_on() -> None:
    waited = waiting_card(berlin(19, 10))
    clock = Clock(waited)
    assert expired_approvals(waited, berlin(20, 9, 59), POLICIES) == []
    clock.every(berlin(19, 10), berlin(20, 9, 55))
    assert clock.at(berlin(20, 10)) == []
    (note,) = expired_approvals(waited, berlin(20, 10), POLICIES)
    assert note.environment == "production"
    assert note.text == ("⌛ The approval request for *production* expired after 24 h "
                         "without a decision")


def test_an_approval_waiting_over_the_weekend_gets_one_nudge_on_monday() -> None:
    no_expiry = Schedule(timezone="Europe/Berlin", approval_expires_after_hours=0)
    clock = Clock(waiting_card(berlin(20, 17)), schedule=no_expiry)
    fired = clock.every(berlin(20, 17), berlin(23, 9, 30))
    assert [(moment, n.number) for moment, n in fired] == [(berlin(23, 9), 1)]
    assert fired[0][1].key.endswith(":32")  # the interval it was in: 64 h / 2 h


# --- stuck checks -------------------------------------------------------------------------------


def test_a_check_running_without_news_is_noted_and_keeps_its_status() -> None:
    started = datetime(2026, 11, 20, 10, 1, tzinfo=UTC)
    running = card(checks=(check("test", Status.RUNNING, updated_at=started,
                                 slot=("github", "check", "test")),
                           check("lint", Status.SUCCESS, updated_at=started)))
    assert stuck_checks(running, started + timedelta(minutes=29), SCHEDULE.policy()) == []
    (note,) = stuck_checks(running, started + timedelta(minutes=47), SCHEDULE.policy())
    assert note.text == "⏳ *test* is running, no news for 47 min"
    assert note.check == ("github", "check", "test")
    assert [c.status for c in running.checks] == [Status.RUNNING, Status.SUCCESS]


def test_durations_read_as_people_say_them() -> None:
    assert [duration(timedelta(minutes=m)) for m in (0, 47, 60, 125, 47 * 60, 72 * 60)] == [
        "0 min", "47 min", "1 h", "2 h", "47 h", "3 days"]


# --- config -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("yaml_text", "message"),
    [
        ("schedule: {timezone: Mars/Olympus}\n", "schedule.timezone: unknown time zone"),
        ("schedule: {working_hours: '18:00-09:00'}\n", "ends before it starts"),
        ("schedule: {working_hours: 'nine to five'}\n", "not a range of times"),
        ("schedule: {working_days: [mon, funday]}\n", "schedule.working_days[1]"),
        ("schedule: {review_nudge_after: 4}\n", "schedule.review_nudge_after: Extra inputs"),
        ("retention: {events_days: 0}\n", "retention.events_days"),
        ("retention: {run_at: 3:30}\n", 'write the time in quotes, like "03:30"'),
    ],
)
def test_schedule_mistakes_name_their_line(yaml_text: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(yaml_text, source="devexbot.yaml")
    assert message in str(caught.value)
    assert str(caught.value).startswith("devexbot.yaml:1: ")


def test_the_scheduler_pages_settings_are_the_defaults() -> None:
    page = (Path(__file__).resolve().parents[1] / "docs" / "scheduler.md").read_text()
    block = page.split("```yaml\n", 1)[1].split("```", 1)[0]
    config = parse_config(block, source="docs/scheduler.md")
    assert config.schedule == Schedule() and config.retention == Retention()
    assert config.schedule.for_route(config.routes[0]).stuck_after_minutes == 120
