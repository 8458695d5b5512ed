"""The test bot itself: nothing happens behind the test's back, and time moves only when the
test moves it (the outbox's coalescing window, Slack's pace, a scheduled job's now)."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta

import pytest

from tests.bot import SteppedClock, TestBot
from tests.fakes.slack_api import FakeSlack
from tests.github_sender import load_fixture
from tests.scenario import HEAD

pytestmark = pytest.mark.sqlite_only

STARTED = datetime(2026, 11, 20, 10, 1, 10, tzinfo=UTC)  # check_run.in_progress's start


@pytest.fixture
def clock() -> SteppedClock:
    """A minute after the build started."""
    return SteppedClock(start=STARTED + timedelta(minutes=1))


def test_a_card_waits_for_its_quiet_window_then_goes_out_once(bot: TestBot,
                                                              slack: FakeSlack) -> None:
    quiet = timedelta(seconds=bot.services.outbox.claims.policy.quiet)  # type: ignore[union-attr]
    bot.deliver("check_run", load_fixture("check_run.in_progress"))
    assert bot.flush() == 0 and slack.calls() == []  # news just in: more may follow
    bot.clock.advance(quiet)
    assert bot.flush() == 1
    assert [c.method for c in slack.calls()] == ["chat.postMessage"]
    assert bot.message().text.startswith("🔄")
    assert bot.next_due() is None and bot.flush() == 0


def test_the_second_card_in_a_channel_goes_out_when_slacks_pace_allows(
    bot: TestBot, slack: FakeSlack
) -> None:
    for sha in ("1" * 40, "2" * 40):
        payload = copy.deepcopy(load_fixture("check_run.completed"))
        payload["check_run"]["head_sha"] = sha
        bot.deliver("check_run", payload)
    bot.clock.advance(timedelta(seconds=5))
    bot.flush()
    assert len(slack.calls("chat.postMessage")) == 1  # one post a second per channel
    bot.settle()
    first, second = slack.calls("chat.postMessage")
    assert second.monotonic - first.monotonic >= 1.0
    assert slack.post_rate_violations() == []


def test_a_scheduled_job_runs_at_the_clocks_time(bot: TestBot, slack: FakeSlack) -> None:
    bot.deliver("check_run", load_fixture("check_run.in_progress"))
    bot.settle()
    assert bot.run_job("stuck-builds") == "nothing due"
    bot.clock.advance(STARTED + timedelta(minutes=47) - bot.clock.now())
    assert bot.run_job("stuck-builds") == "stuck checks noted: 1"
    bot.settle()
    assert "no news for 47 min" in str(bot.message(HEAD).blocks)
