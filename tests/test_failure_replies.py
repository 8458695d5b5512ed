"""One failure is one reply in the card's thread, and its log is downloaded once, whatever
the sources that report it and however their deliveries fall between flushes. The bot is
stepped: signed deliveries go in, the outbox is flushed by hand and its clock advanced, so
no flush depends on how fast the machine is."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from devexbot.app import create_app
from devexbot.publish.failure_logs import FailureLogs
from devexbot.publish.outbox import Outbox, OutboxPolicy
from devexbot.publish.pacing import Pacing
from devexbot.services import Services
from devexbot.store.models import utcnow
from tests.conftest import GITHUB_SECRET
from tests.fakes.github_api import FakeGitHub
from tests.fakes.slack_api import FakeSlack
from tests.github_sender import GitHubSender, load_fixture
from tests.scenario import HEAD, REPO
from tests.test_actions import make_bot

RUN_ID = 30433642
LOG = ("2026-11-20T10:03:58.1000000Z FAILED tests/test_login.py::test_remember_me - "
       "AssertionError: expected a cookie\n"
       "2026-11-20T10:03:59.0000000Z ##[error]Process completed with exit code 1.\n")


class Clock:
    """The outbox's clock and Slack pacing's, moved only by the test."""

    def __init__(self) -> None:
        self.at = utcnow()
        self.seconds = 1000.0

    def now(self) -> datetime:
        return self.at

    def monotonic(self) -> float:
        return self.seconds

    def advance(self, seconds: float) -> None:
        self.at += timedelta(seconds=seconds)
        self.seconds += seconds


class SteppedBot:
    """The app taking signed deliveries, with no outbox worker: `flush()` runs the outbox
    once, after stepping its clock past the coalescing window and Slack's post pacing."""

    def __init__(self, services: Services, slack: FakeSlack) -> None:
        assert services.slack_client is not None
        self.services, self.slack, self.clock = services, slack, Clock()
        # Without the `with`, the app's lifespan never starts the outbox worker.
        self.github = GitHubSender(TestClient(create_app(services=services)), GITHUB_SECRET)
        self.outbox = Outbox(
            services.db, services.slack_client, services.router, services.people,
            pacing=Pacing(clock=self.clock.monotonic), policy=OutboxPolicy(),
            card_loader=services.card_loader, config=services.config,
            logs=FailureLogs(services.settings, services.github), clock=self.clock.now,
        )

    def deliver(self, event: str, payload: dict[str, Any]) -> None:
        assert self.github.deliver(event, payload).status_code == 202

    def flush(self) -> None:
        """Flush until nothing is due, stepping past every wait the outbox asks for."""
        for _ in range(10):
            self.clock.advance(2.0)
            if not self.outbox.flush():
                return
        raise AssertionError("the outbox kept finding work")

    def thread(self) -> list[Any]:
        (card,) = self.slack.messages(self.services.settings.slack_default_channel or "")
        return self.slack.thread(card.channel, card.ts)

    def failure_replies(self) -> list[Any]:
        return [m for m in self.thread()[1:] if "❌" in m.text]


@pytest.fixture
def bot(database_url: str, tmp_path: Path, fake_slack: FakeSlack,
        fake_github: FakeGitHub) -> Iterator[SteppedBot]:
    services = make_bot(database_url, tmp_path, fake_slack, fake_github)
    yield SteppedBot(services, fake_slack)
    services.db.dispose()


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
    bot: SteppedBot, fake_github: FakeGitHub, fake_slack: FakeSlack
) -> None:
    job_id, job = failed_job(fake_github)
    bot.deliver("push", load_fixture("push"))
    bot.flush()  # the card is posted
    fake_slack.fail_next("chat.postMessage", status=500)  # ...and its reply is not, at first
    bot.deliver("workflow_job", job)
    bot.flush()

    (reply,) = bot.failure_replies()
    assert "test_remember_me - AssertionError: expected a cookie" in str(reply.blocks)
    assert [c.status for c in fake_slack.calls("chat.postMessage") if c.fault] == [500]
    assert len(fake_github.calls("GET", f"*/actions/jobs/{job_id}/logs")) == 1
