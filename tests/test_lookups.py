"""A flush only carries decisions out: what a card shows besides its events (its tickets'
statuses, what a waiting deploy carries, its failed jobs' logs) is looked up by the card
lookups, outside the flush, which then reads what they recorded. Test bot, fake Slack,
GitHub and Jira."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from datetime import timedelta

import pytest

from tests.bot import BotFactory
from tests.fakes.github_api import FakeGitHub
from tests.fakes.jira_api import FakeJira
from tests.github_sender import load_fixture
from tests.scenario import HEAD, REPO
from tests.test_actions import fakes_settings
from tests.test_failure_replies import failed_job

CONFIG = """\
environments: [staging, production]
tickets:
  projects: [ABC]
  url: https://jira.example.com
"""


@pytest.fixture
def fake_jira() -> Iterator[FakeJira]:
    with FakeJira() as jira:
        jira.add_issue("ABC-123", "Login page", status="In Review")
        yield jira


def test_a_flush_calls_neither_jira_nor_github_and_the_lookups_fill_in_the_card(
    make_bot: BotFactory, fake_github: FakeGitHub, fake_jira: FakeJira
) -> None:
    live = fake_github.add_commit(REPO, "ABC-1 What production runs")
    fake_github.add_commit(REPO, "ABC-123 Add login page", sha=HEAD)
    job_id, job = failed_job(fake_github)
    bot = make_bot(config=CONFIG, jira_url=fake_jira.base_url, jira_user=fake_jira.user,
                   jira_api_token=fake_jira.token, **fakes_settings(fake_github))
    assert bot.services.outbox is not None and bot.slack is not None
    push = copy.deepcopy(load_fixture("push"))
    push["head_commit"]["message"] = "ABC-123 Add login page"
    assert bot.deliver("push", push).status_code == 202
    for sha, status, at in ((live, "success", "09:00:00"), (HEAD, "waiting", "10:00:00")):
        assert bot.deploy.send({"repository": REPO, "sha": sha, "environment": "production",
                                "status": status, "timestamp": f"2026-11-20T{at}Z"}
                               ).status_code in (200, 202)
    assert bot.deliver("workflow_job", job).status_code == 202
    github_calls, jira_calls = len(fake_github.calls()), len(fake_jira.calls())

    # Jira and GitHub answer nothing: a flush that asked them would hang on its call.
    fake_github.hold_answers()
    fake_jira.hold_answers()
    try:
        bot.clock.advance(2)  # past the outbox's coalescing window
        assert bot.services.outbox.flush() >= 1  # the outbox's flush alone
        blocks = json.dumps(bot.message().blocks, ensure_ascii=False)
    finally:
        fake_github.release_answers()
        fake_jira.release_answers()
    assert (len(fake_github.calls()), len(fake_jira.calls())) == (github_calls, jira_calls)
    assert "❌" in bot.message().text  # posted, the failure shown
    assert "In Review" not in blocks and "📦" not in blocks  # nothing looked up yet
    assert bot.thread() == []  # the failure reply waits for its log
    assert bot.card().dirty

    start = bot.clock.now()
    bot.settle()  # the lookups, then the outbox (within Slack's pace): card and reply
    assert bot.clock.now() - start < timedelta(seconds=5)  # the log, not the bound
    blocks = json.dumps(bot.message().blocks, ensure_ascii=False)
    assert "In Review" in blocks  # the ticket's status, from Jira
    assert "📦 *production* gets 1 commit over live" in blocks  # from GitHub's compare
    (reply,) = bot.thread()
    assert "test_remember_me - AssertionError: expected a cookie" in str(reply.blocks)
    assert not bot.card().dirty
    assert len(fake_github.calls("GET", f"*/actions/jobs/{job_id}/logs")) == 1


def test_a_failure_reply_waits_for_its_log_no_longer_than_the_bound(
    make_bot: BotFactory, fake_github: FakeGitHub
) -> None:
    _, job = failed_job(fake_github)
    bot = make_bot(**fakes_settings(fake_github))
    assert bot.services.outbox is not None
    bot.deliver("push", load_fixture("push"))
    bot.deliver("workflow_job", job)
    bot.clock.advance(2)
    bot.services.outbox.flush()  # the lookups never ran (their worker is stuck, say)
    assert bot.thread() == []
    bot.clock.advance(30)
    bot.services.outbox.flush()
    (reply,) = bot.thread()  # the reply, without the log
    assert "CI / test" in str(reply.blocks) and "test_remember_me" not in str(reply.blocks)
