"""A card's times come from the payloads, and a time far ahead of its arrival is not believed:
the same events make the same card, and a sender's wrong clock cannot pin a card's state."""

from __future__ import annotations

import copy
import logging
from datetime import UTC, datetime, timedelta

import pytest

from correlation import Event
from correlation.events import MAX_CLOCK_AHEAD, clamp_future
from correlation.github import parse_github
from tests.bot import TestBot
from tests.deploy_sender import load_deploy
from tests.github_sender import load_fixture

ARRIVAL = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)


def _event(at: datetime) -> Event:
    return Event(repo="octo/app", sha="a" * 40, source="deploy", kind="deployment",
                 name="production", at=at)


@pytest.mark.parametrize(("at", "taken_as", "clamped"), [
    (ARRIVAL - timedelta(days=3), ARRIVAL - timedelta(days=3), False),  # the past: believed
    (ARRIVAL, ARRIVAL, False),
    (ARRIVAL + MAX_CLOCK_AHEAD, ARRIVAL + MAX_CLOCK_AHEAD, False),  # a clock a little ahead
    (ARRIVAL + MAX_CLOCK_AHEAD + timedelta(seconds=1), ARRIVAL, True),
    (datetime(2099, 1, 1, tzinfo=UTC), ARRIVAL, True),
])
def test_a_time_far_ahead_of_arrival_is_taken_as_the_arrival(
        at: datetime, taken_as: datetime, clamped: bool) -> None:
    kept, ahead = clamp_future([_event(at)], ARRIVAL)
    assert [e.at for e in kept] == [taken_as]
    assert [e.at for e in ahead] == ([at] if clamped else [])


def test_a_push_without_pushed_at_takes_the_head_commits_time_not_the_arrival() -> None:
    payload = copy.deepcopy(load_fixture("push"))
    payload["repository"].pop("pushed_at", None)
    head_time = datetime.fromisoformat(payload["head_commit"]["timestamp"])
    first = parse_github("push", payload, received_at=ARRIVAL)
    again = parse_github("push", payload, received_at=ARRIVAL + timedelta(hours=5))
    assert first == again  # the same payload makes the same events, whenever it arrives
    assert {e.at for e in first} == {head_time}


def test_a_deploy_stamped_in_the_future_does_not_pin_the_environment(
        bot: TestBot, caplog: pytest.LogCaptureFixture) -> None:
    failed = {**load_deploy("test.success"), "environment": "production",
              "status": "failure", "timestamp": "2099-01-01T00:00:00Z"}
    with caplog.at_level(logging.WARNING, logger="devexbot.store.ingest"):
        assert bot.deploy.send(failed).status_code == 202
    warned = [r.getMessage() for r in caplog.records if "ahead of its arrival" in r.getMessage()]
    assert len(warned) == 1 and "2099-01-01" in warned[0]

    bot.clock.advance(timedelta(minutes=1))
    now = bot.clock.now()
    fixed = {**failed, "status": "success",
             "timestamp": now.isoformat().replace("+00:00", "Z")}
    assert bot.deploy.send(fixed).status_code == 202
    card = bot.client.get(f"/api/cards/octo-org/octo-app/{failed['sha']}").json()
    (production,) = [d for d in card["deployments"] if d["environment"] == "production"]
    assert production["status"] == "success"
    assert datetime.fromisoformat(card["updated_at"].replace("Z", "+00:00")) <= now
