"""The failure reply carries the important piece of the failed job's log when the GitHub or
Jenkins API is configured (fetched with the real clients from local fakes)."""

from __future__ import annotations

import copy

import pytest

from correlation.log_excerpt import MAX_LINES, log_excerpt
from tests.bot import BotFactory
from tests.fakes.github_api import FakeGitHub
from tests.fakes.jenkins_api import FakeJenkins
from tests.github_sender import load_fixture
from tests.jenkins_sender import load_jenkins
from tests.scenario import HEAD, REPO
from tests.test_actions import start_bot

NOISE = "".join(f"2026-11-20T10:02:{i % 60:02d}.0000000Z collecting item {i}\n"
                for i in range(300))
PYTEST_FAILURE = (
    "2026-11-20T10:03:58.1000000Z FAILED tests/test_login.py::test_remember_me - "
    "AssertionError: expected a cookie\n"
    "2026-11-20T10:03:58.2000000Z ===== 1 failed, 119 passed in 41.20s =====\n"
    "2026-11-20T10:03:59.0000000Z ##[error]Process completed with exit code 1.\n"
    "2026-11-20T10:04:00.0000000Z Post job cleanup.\n"
)


def test_the_excerpt_is_the_error_the_assertion_and_the_summary_without_noise() -> None:
    excerpt = log_excerpt(NOISE + PYTEST_FAILURE)
    lines = excerpt.splitlines()
    assert lines[-1] == "##[error]Process completed with exit code 1."
    assert "FAILED tests/test_login.py::test_remember_me - AssertionError" in excerpt
    assert "===== 1 failed, 119 passed in 41.20s =====" in lines
    assert len(lines) <= MAX_LINES and not any(line.startswith("2026-") for line in lines)
    assert log_excerpt("a\nb\nc") == "a\nb\nc"  # nothing wrong: the end of the log


STEPS = "".join(f"2026-11-20T10:02:{i:02d}.0Z step {i} ok\n" for i in range(50))
UNITTEST_FAILURE = (
    "2026-11-20T10:03:00.0Z ERROR: test_checkout (tests.test_cart.CartTest)\n"
    "2026-11-20T10:03:00.1Z Traceback (most recent call last):\n"
    '2026-11-20T10:03:00.2Z   File "tests/test_cart.py", line 42, in test_checkout\n'
    "2026-11-20T10:03:00.3Z     self.assertEqual(total, 30)\n"
    "2026-11-20T10:03:00.4Z AssertionError: 25 != 30\n"
    + "".join(f"2026-11-20T10:03:01.{i}Z teardown {i}\n" for i in range(20))
    + "2026-11-20T10:03:05.0Z Ran 120 tests in 41.2s\n"
    "2026-11-20T10:03:05.1Z FAILED (errors=1)\n"
)


def test_steps_that_went_well_are_left_out_of_the_excerpt() -> None:
    lines = log_excerpt(STEPS + UNITTEST_FAILURE).splitlines()
    # Of the fifty steps that went well, only the two right before the error, for context.
    assert [line for line in lines if line.startswith("step ")] == ["step 48 ok", "step 49 ok"]
    assert "ERROR: test_checkout (tests.test_cart.CartTest)" in lines
    assert "AssertionError: 25 != 30" in lines
    assert lines[-1] == "FAILED (errors=1)"
    assert "…" in lines and len(lines) <= MAX_LINES


@pytest.mark.sqlite_only
def test_a_failed_actions_job_reply_quotes_its_log(
    make_bot: BotFactory, fake_github: FakeGitHub
) -> None:
    run_id = fake_github.add_workflow_run(REPO, head_sha=HEAD, run_id=30433642,
                                          conclusion="failure")
    job_id = fake_github.add_job(REPO, run_id, "test", conclusion="failure",
                                 log=NOISE + PYTEST_FAILURE)
    job = load_fixture("workflow_job.completed")
    job["workflow_job"].update(id=job_id, check_run_url=f"{fake_github.base_url}/repos/"
                               f"{REPO}/check-runs/{job_id}")
    bot = start_bot(make_bot, fake_github)
    bot.github.deliver("push", load_fixture("push"))
    bot.github.deliver("workflow_job", job)
    card = bot.card_message(having="CI / test")
    replies = bot.slack.thread(card.channel, card.ts)[1:]  # the failure reply
    blocks = str(replies[0].blocks)
    assert "test_remember_me - AssertionError: expected a cookie" in blocks
    assert blocks.count("collecting item") == 2  # of 300, two lines of context
    assert fake_github.calls("GET", f"*/actions/jobs/{job_id}/logs")


@pytest.mark.sqlite_only
def test_a_failed_jenkins_build_reply_quotes_its_console(
    make_bot: BotFactory, fake_github: FakeGitHub, fake_jenkins: FakeJenkins
) -> None:
    fake_jenkins.add_job("octo-app-integration")
    fake_jenkins.add_build("octo-app-integration", number=412, result="FAILURE",
                           log="Building...\n[ERROR] Tests run: 48, Failures: 2\n"
                               "[ERROR] LoginIT.rememberMe:42 expected cookie\n")
    failed = copy.deepcopy(load_jenkins("freestyle.completed.ssh"))
    failed["build"].update(status="FAILURE")
    bot = start_bot(make_bot, fake_github, fake_jenkins)
    bot.bot.jenkins.notify(failed)
    card = bot.card_message(having="octo-app-integration")
    replies = bot.slack.thread(card.channel, card.ts)[1:]  # the failure reply
    assert "LoginIT.rememberMe:42 expected cookie" in str(replies[0].blocks)


@pytest.mark.sqlite_only
def test_a_log_that_cannot_be_fetched_never_costs_the_reply(
    make_bot: BotFactory, fake_github: FakeGitHub
) -> None:
    run_id = fake_github.add_workflow_run(REPO, head_sha=HEAD, run_id=30433642,
                                          conclusion="failure")
    job_id = fake_github.add_job(REPO, run_id, "test", conclusion="failure", log="boom")
    fake_github.fail_next("GET */logs", status=500, times=100)  # down for good
    job = load_fixture("workflow_job.completed")
    job["workflow_job"]["id"] = job_id
    bot = start_bot(make_bot, fake_github)
    bot.github.deliver("push", load_fixture("push"))
    bot.github.deliver("workflow_job", job)
    card = bot.card_message(having="CI / test")
    replies = bot.slack.thread(card.channel, card.ts)[1:]  # the failure reply
    blocks = str(replies[0].blocks)
    assert "CI / test" in blocks and "Run pytest" in blocks  # what the payload said
    assert {c.status for c in fake_github.calls("GET", "*/logs")} == {500}  # tried, failed
