"""One failure is one reply in the card's thread, and its log is downloaded once, whatever
the sources that report it and however their deliveries fall between flushes. The bot is
the test bot: signed deliveries go in, the outbox is flushed by hand and its clock stepped,
so no flush depends on how fast the machine is."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from tests.bot import BotFactory, TestBot
from tests.fakes.github_api import FakeGitHub
from tests.fakes.slack_api import FakeSlack
from tests.github_sender import load_fixture
from tests.scenario import HEAD, REPO
from tests.test_actions import PEOPLE, fakes_settings

pytestmark = pytest.mark.sqlite_only  # which replies a card owes; the claims are elsewhere

RUN_ID = 30433642
LOG = ("2026-11-20T10:03:58.1000000Z FAILED tests/test_login.py::test_remember_me - "
       "AssertionError: expected a cookie\n"
       "2026-11-20T10:03:59.0000000Z ##[error]Process completed with exit code 1.\n")


class SteppedBot:
    """The test bot taking signed deliveries; `flush()` steps its clock past every wait the
    outbox asks for (the coalescing window, Slack's post pacing, a retry's back-off)."""

    def __init__(self, bot: TestBot) -> None:
        assert bot.slack is not None
        self.bot, self.services, self.slack = bot, bot.services, bot.slack

    def deliver(self, event: str, payload: dict[str, Any]) -> None:
        assert self.bot.deliver(event, payload).status_code == 202

    def flush(self) -> None:
        """Flush until Slack shows every card and every reply it owes."""
        self.bot.settle()

    def thread(self) -> list[Any]:
        (card,) = self.slack.messages(self.services.settings.slack_default_channel or "")
        return self.slack.thread(card.channel, card.ts)

    def failure_replies(self) -> list[Any]:
        return [m for m in self.thread()[1:] if "❌" in m.text]


@pytest.fixture
def bot(make_bot: BotFactory, fake_github: FakeGitHub) -> SteppedBot:
    return SteppedBot(make_bot(config=PEOPLE, **fakes_settings(fake_github)))


def failed_job(fake_github: FakeGitHub) -> tuple[int, dict[str, Any]]:
    """GitHub's `workflow_job` completed/failure delivery for a job the fake can serve."""
    run_id = fake_github.add_workflow_run(REPO, head_sha=HEAD, run_id=RUN_ID,
                                          conclusion="failure")
    job_id = fake_github.add_job(REPO, run_id, "test", conclusion="failure", log=LOG)
    payload = copy.deepcopy(load_fixture("workflow_job.completed"))
    payload["workflow_job"].update(
        id=job_id, run_id=run_id,
        check_run_url=f"https://api.github.com/repos/{REPO}/check-runs/{job_id}")
    return job_id, payload


def test_a_failed_job_and_then_its_failed_run_are_one_reply_with_one_log_download(
    bot: SteppedBot, fake_github: FakeGitHub
) -> None:
    job_id, job = failed_job(fake_github)
    bot.deliver("push", load_fixture("push"))
    bot.deliver("workflow_job", job)
    bot.flush()
    assert len(bot.failure_replies()) == 1
    bot.deliver("workflow_run", load_fixture("workflow_run.completed"))  # GitHub sends it last
    bot.flush()

    (reply,) = bot.failure_replies()
    assert "CI / test" in reply.text
    assert "test_remember_me - AssertionError: expected a cookie" in str(reply.blocks)
    assert len(fake_github.calls("GET", f"*/actions/jobs/{job_id}/logs")) == 1


def test_a_failed_check_run_and_then_the_same_job_are_one_reply(
    bot: SteppedBot, fake_github: FakeGitHub
) -> None:
    # GitHub reports an Actions job as a check run too, with the job's id.
    job_id, job = failed_job(fake_github)
    check_run = copy.deepcopy(load_fixture("check_run.completed.failure"))
    check_run["check_run"].update(id=job_id, name="test")
    bot.deliver("push", load_fixture("push"))
    bot.deliver("check_run", check_run)
    bot.flush()
    bot.deliver("workflow_job", job)
    bot.flush()
    bot.deliver("workflow_run", load_fixture("workflow_run.completed"))
    bot.flush()
    assert len(bot.failure_replies()) == 1


def test_a_reply_slack_failed_to_take_is_sent_again_without_downloading_the_log_again(
    bot: SteppedBot, fake_github: FakeGitHub, slack: FakeSlack
) -> None:
    job_id, job = failed_job(fake_github)
    bot.deliver("push", load_fixture("push"))
    bot.flush()  # the card is posted
    slack.fail_next("chat.postMessage", status=500)  # ...and its reply is not, at first
    bot.deliver("workflow_job", job)
    bot.flush()

    (reply,) = bot.failure_replies()
    assert "test_remember_me - AssertionError: expected a cookie" in str(reply.blocks)
    assert [c.status for c in slack.calls("chat.postMessage") if c.fault] == [500]
    assert len(fake_github.calls("GET", f"*/actions/jobs/{job_id}/logs")) == 1
