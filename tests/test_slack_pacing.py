"""Slack's tier-3 budget for `chat.update`, spent where it matters: when it runs low, a card
that has settled (or failed, or waits for a human) is updated before one still running."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from devexbot.app import create_app
from devexbot.publish.pacing import Limits, Pacing
from tests.conftest import GITHUB_SECRET
from tests.fakes.slack_api import FakeSlack
from tests.github_sender import GitHubSender, load_fixture
from tests.scenario import REPO
from tests.slack_app import slack_services, wait_for
from tests.test_slack_cards import card_row, settled


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


def check_run(sha: str, name: str, status: str, conclusion: str | None) -> dict[str, Any]:
    payload = copy.deepcopy(load_fixture("check_run.completed"))
    payload["check_run"].update(head_sha=sha, name=name, status=status, conclusion=conclusion,
                                id=abs(hash((sha, name))) % 10**9)
    if conclusion is None:
        payload["check_run"]["completed_at"] = None
    return payload


def test_with_the_budget_low_a_finished_card_is_updated_before_a_running_one(
    database_url: str, tmp_path: Path, fake_slack: FakeSlack
) -> None:
    running, finished = "1" * 40, "2" * 40
    bot = slack_services(database_url, tmp_path, fake_slack.base_url)
    github = GitHubSender(TestClient(create_app(services=bot)), GITHUB_SECRET)
    for sha in (running, finished):
        github.deliver("check_run", check_run(sha, "build", "in_progress", None))
    assert bot.outbox is not None
    wait_for(lambda: bot.outbox.flush() is not None and settled(bot, running)
             and settled(bot, finished), what="both cards posted")

    before = len(fake_slack.calls("chat.update"))
    # Two updates left in the bucket, both kept in reserve; none refills meanwhile.
    bot.outbox.pacing = Pacing(Limits(update_rate=1e-9, update_burst=2, update_reserve=2))
    github.deliver("check_run", check_run(running, "lint", "in_progress", None))
    github.deliver("check_run", check_run(finished, "build", "completed", "success"))
    wait_for(lambda: bot.outbox.flush() is not None and settled(bot, finished),
             what="the finished card's update")
    updated = [c.params["ts"] for c in fake_slack.calls("chat.update")[before:] if c.ok]
    assert updated == [card_row(bot, finished).slack_ts]
    assert card_row(bot, running).dirty  # its update waits for the budget

    # A failure cannot wait either: the running card failing takes the last update.
    github.deliver("check_run", check_run(running, "lint", "completed", "failure"))
    wait_for(lambda: bot.outbox.flush() is not None and settled(bot, running),
             what="the failed card's update")
    final = fake_slack.final_message(card_row(bot, running).slack_channel,
                                     card_row(bot, running).slack_ts)
    assert "lint" in final.text and REPO.split("/")[1] in str(final.blocks)
