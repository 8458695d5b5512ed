"""Slack's tier-3 budget for `chat.update`, spent where it matters: when it runs low, a card
that has settled (or failed, or waits for a human) is updated before one still running."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from devexbot.publish.pacing import Limits, Pacing
from tests.bot import TestBot
from tests.fakes.slack_api import FakeSlack
from tests.github_sender import load_fixture
from tests.scenario import REPO


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_updates_that_can_wait_leave_the_reserve_to_those_that_cannot() -> None:
    clock = Clock()
    pacing = Pacing(Limits(update_rate=1.0, update_burst=10, update_reserve=4), clock=clock)
    taken = 0
    while pacing.take_update("C1", can_wait=True):
        taken += 1
    assert taken == 6  # 10 in the bucket, 4 kept back
    assert [pacing.take_update("C1") for _ in range(5)] == [True] * 4 + [False]
    clock.now += 3  # three refilled: still within the reserve
    assert not pacing.take_update("C1", can_wait=True)
    assert pacing.take_update("C1")
    clock.now += 10  # full again
    assert pacing.take_update("C1", can_wait=True)
    pacing.block("C1", 5)  # a 429's Retry-After stops both kinds for that channel
    assert not pacing.take_update("C1") and pacing.take_update("C2")


def test_looking_for_a_lost_post_takes_a_post_slot_and_a_history_call_or_neither() -> None:
    clock = Clock()
    pacing = Pacing(Limits(history_rate=0.5, history_burst=1), clock=clock)
    assert pacing.take_post("C1", look_first=True)
    clock.now += 1  # C1's slot is free again; half a history call is back
    assert not pacing.take_post("C1", look_first=True)
    assert pacing.take_post("C1")  # the look that could not be made took no slot
    clock.now += 1
    assert pacing.take_post("C2", look_first=True)


def test_history_calls_stay_within_tier_3_in_any_minute() -> None:
    clock = Clock()
    pacing = Pacing(clock=clock)
    made = []
    for step in range(3000):  # five minutes, asking ten times a second
        clock.now = 1000.0 + step / 10
        if pacing.take_history():
            made.append(clock.now)
    most = max(sum(1 for m in made if start <= m < start + 60) for start in made)
    assert 45 <= most <= 50, most


def test_cards_waiting_for_a_channel_come_back_one_a_slot() -> None:
    clock = Clock()
    pacing = Pacing(clock=clock)
    assert pacing.take_post("C1")
    assert [pacing.post_wait("C1") for _ in range(3)] == [1.0, 2.0, 3.0]
    assert pacing.post_wait("C2") == 0.0  # another channel's queue
    clock.now += 1
    assert pacing.take_post("C1")  # a turn was taken: those told to wait queue anew
    assert [pacing.post_wait("C1") for _ in range(2)] == [1.0, 2.0]


def check_run(sha: str, name: str, status: str, conclusion: str | None) -> dict[str, Any]:
    payload = copy.deepcopy(load_fixture("check_run.completed"))
    payload["check_run"].update(head_sha=sha, name=name, status=status, conclusion=conclusion,
                                id=abs(hash((sha, name))) % 10**9)
    if conclusion is None:
        payload["check_run"]["completed_at"] = None
    return payload


@pytest.mark.sqlite_only
def test_with_the_budget_low_a_finished_card_is_updated_before_a_running_one(
    bot: TestBot, slack: FakeSlack
) -> None:
    running, finished = "1" * 40, "2" * 40
    for sha in (running, finished):
        bot.deliver("check_run", check_run(sha, "build", "in_progress", None))
    bot.settle()
    assert bot.card(running).slack_ts and bot.card(finished).slack_ts, "both cards posted"

    before = len(slack.calls("chat.update"))
    outbox = bot.services.outbox
    assert outbox is not None
    # Two updates left in the bucket, both kept in reserve; none refills meanwhile.
    outbox.pacing = Pacing(Limits(update_rate=1e-9, update_burst=2, update_reserve=2),
                           clock=bot.clock.monotonic)
    bot.deliver("check_run", check_run(running, "lint", "in_progress", None))
    bot.deliver("check_run", check_run(finished, "build", "completed", "success"))
    bot.clock.advance(5)
    bot.flush()
    assert not bot.card(finished).dirty, "the finished card's update"
    updated = [c.params["ts"] for c in slack.calls("chat.update")[before:] if c.ok]
    assert updated == [bot.card(finished).slack_ts]
    assert bot.card(running).dirty  # its update waits for the budget

    # A failure cannot wait either: the running card failing takes the last update.
    bot.deliver("check_run", check_run(running, "lint", "completed", "failure"))
    bot.clock.advance(5)
    bot.flush()
    assert not bot.card(running).dirty, "the failed card's update"
    final = bot.message(running)
    assert "lint" in final.text and REPO.split("/")[1] in str(final.blocks)
