"""Start-up that tells the truth: `/readyz` says which service is up, down (and why, in one
line) or off; a refused Slack token is one clear line, and the bot backs off rather than
flooding its log."""

from __future__ import annotations

import logging
import re
import socket
from collections.abc import Iterator
from typing import Any

import pytest

from tests.bot import BotFactory, TestBot
from tests.fakes.github_api import FakeGitHub
from tests.fakes.jenkins_api import FakeJenkins
from tests.fakes.jira_api import FakeJira
from tests.fakes.slack_api import FakeSlack
from tests.github_sender import load_fixture

REFUSED = "the bot token is refused (invalid_auth): check SLACK_BOT_TOKEN"
LEAK = re.compile(r"Traceback \(most recent call|\b[A-Z][A-Za-z]*(?:Error|Exception)\b")


def readyz(bot: TestBot) -> tuple[int, dict[str, Any]]:
    response = bot.client.get("/readyz")
    return response.status_code, response.json()


def states(body: dict[str, Any]) -> dict[str, str]:
    return {name: seen["state"] for name, seen in body["dependencies"].items()}


def lines(caplog: pytest.LogCaptureFixture, logger: str) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == logger]


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


# ---- Slack refusing the bot's token ------------------------------------------------------


def test_a_refused_slack_token_is_one_line_and_slack_is_down_until_it_is_taken_again(
        bot: TestBot, slack: FakeSlack, caplog: pytest.LogCaptureFixture) -> None:
    slack.refuse_token()
    with caplog.at_level(logging.DEBUG, logger="devexbot.health"):
        bot.services.watch.check_due()  # what the start does, before it serves
        status, body = readyz(bot)
        assert status == 503
        assert body["status"] == "not ready"
        assert body["dependencies"]["slack"]["state"] == "down"
        assert body["dependencies"]["slack"]["error"] == REFUSED
        assert states(body) == {"database": "up", "slack": "down", "github": "off",
                                "jenkins": "off", "jira": "off"}
        # Ten minutes on, checked again with back-off (5 s, 10 s, 20 s ... 5 min), said once.
        for _ in range(120):
            bot.clock.advance(5)
            bot.services.watch.check_due()
        warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
        assert [r.getMessage() for r in warnings] == [
            f"Slack is down: {REFUSED}; checking again in 5 s"]
        assert len(slack.calls("auth.test")) <= 8
        slack.refuse_token(False)
        for _ in range(60):  # the next check (at most 5 minutes on) finds it back
            bot.clock.advance(5)
            bot.services.watch.check_due()
    assert "Slack answers again" in lines(caplog, "devexbot.health.watch")
    status, body = readyz(bot)
    assert (status, body["dependencies"]["slack"]["state"]) == (200, "up")


def test_the_bots_own_calls_tell_readyz_that_slack_refuses_the_token(
        bot: TestBot, slack: FakeSlack) -> None:
    bot.services.watch.check_due()
    assert readyz(bot)[0] == 200
    slack.refuse_token()  # revoked while the bot runs
    bot.deliver("check_run", load_fixture("check_run.completed"))
    bot.clock.advance(2)
    bot.flush()
    status, body = readyz(bot)
    assert (status, body["dependencies"]["slack"]["error"]) == (503, REFUSED)
    slack.refuse_token(False)
    bot.settle()
    assert readyz(bot)[0] == 200
    assert bot.message().text  # the card got through once Slack took the token again


def test_the_outbox_says_each_refusal_in_one_line_and_backs_off(
        bot: TestBot, slack: FakeSlack, caplog: pytest.LogCaptureFixture) -> None:
    slack.refuse_token()
    bot.deliver("check_run", load_fixture("check_run.completed"))
    with caplog.at_level(logging.INFO):
        for _ in range(600):  # ten minutes, a second at a time
            bot.clock.advance(1)
            bot.flush()
    said = [r for r in caplog.records if r.name.startswith("devexbot.publish")]
    # Back-off from 1 s, doubling up to 5 minutes: some ten tries in ten minutes.
    assert 5 <= len(said) <= 12, [r.getMessage() for r in said]
    for record in said:
        assert record.exc_info is None
        assert record.getMessage().startswith(
            "card octo-org/octo-app@6dcb09b: Slack refused it in C0DEPLOYS: invalid_auth "
            "(HTTP 200); trying again in ")
    assert len([c for c in slack.calls() if c.method != "auth.test"]) == len(said)


def test_an_unreachable_slack_is_one_line_per_try_without_a_traceback(
        bot: TestBot, slack: FakeSlack, caplog: pytest.LogCaptureFixture) -> None:
    bot.deliver("check_run", load_fixture("check_run.completed"))
    slack.stop()
    with caplog.at_level(logging.INFO):
        for _ in range(8):  # some 4 tries; slack_sdk itself waits ~1 s before its one retry
            bot.clock.advance(2)
            bot.flush()
    said = [r for r in caplog.records if r.name.startswith("devexbot.publish")]
    assert said
    for record in said:
        assert record.exc_info is None
        message = record.getMessage()
        assert message.startswith("card octo-org/octo-app@6dcb09b: Slack is unreachable "
                                  "(URLError: "), message
        assert "; trying again in " in message
    assert not [r for r in caplog.records if r.name.startswith("slack_sdk")]
    assert readyz(bot)[1]["dependencies"]["slack"]["error"] == "unreachable (Connection refused)"


# ---- every service's state --------------------------------------------------------------


@pytest.fixture
def fake_jira() -> Iterator[FakeJira]:
    with FakeJira() as jira:
        yield jira


@pytest.fixture
def services(fake_github: FakeGitHub, fake_jenkins: FakeJenkins, fake_jira: FakeJira
             ) -> dict[str, Any]:
    return {"github_token": fake_github.token, "github_api_url": fake_github.base_url,
            "jenkins_url": fake_jenkins.base_url, "jenkins_user": fake_jenkins.user,
            "jenkins_api_token": fake_jenkins.token,
            "jira_url": fake_jira.base_url, "jira_user": fake_jira.user,
            "jira_api_token": fake_jira.token}


@pytest.mark.parametrize(("case", "changed", "status", "expected"), [
    ("nothing but the database", "no services", 200,
     {"database": "up", "slack": "off", "github": "off", "jenkins": "off", "jira": "off"}),
    ("all up", {}, 200,
     {"database": "up", "slack": "up", "github": "up", "jenkins": "up", "jira": "up"}),
    ("a wrong GitHub token", {"github_token": "ghp_wrong"}, 503,
     {"github": "down: GitHub answers 401: Bad credentials"}),
    ("Jenkins unreachable", {"jenkins_url": "http://127.0.0.1:{closed}/"}, 503,
     {"jenkins": "down: unreachable (Connection refused)"}),
    ("a wrong Jenkins token", {"jenkins_api_token": "wrong"}, 503,
     {"jenkins": "down: Error in request. Possibly authentication failed [401]"}),
    ("a wrong Jira token", {"jira_api_token": "wrong"}, 503,
     {"jira": "down: JIRA_USER / JIRA_API_TOKEN are refused (HTTP 401)"}),
    ("Jira unreachable", {"jira_url": "http://127.0.0.1:{closed}"}, 503,
     {"jira": "down: unreachable (Connection refused)"}),
])
@pytest.mark.sqlite_only
def test_readyz_says_each_service_is_up_down_or_off(
        make_bot: BotFactory, services: dict[str, Any], case: str,
        changed: dict[str, str] | str, status: int, expected: dict[str, str]) -> None:
    if changed == "no services":
        bot = make_bot(slack_on=False)
    else:
        assert isinstance(changed, dict)
        port = closed_port()
        bot = make_bot(**(services | {k: v.format(closed=port) for k, v in changed.items()}))
    bot.services.watch.check_due()
    got, body = readyz(bot)
    assert got == status, body
    assert body["status"] == ("ready" if status == 200 else "not ready")
    for name, state in expected.items():
        seen = body["dependencies"][name]
        if state.startswith("down: "):
            assert seen["state"] == "down"
            assert seen["error"].startswith(state.removeprefix("down: ")), seen
            assert "\n" not in seen["error"]
            assert not LEAK.search(seen["error"])  # in words, naming no Python exception
        else:
            assert seen["state"] == state, (name, seen)


def test_readyz_is_not_ready_before_the_first_checks(bot: TestBot) -> None:
    status, body = readyz(bot)
    assert status == 503
    slack = body["dependencies"]["slack"]
    assert (slack["state"], slack["error"]) == ("down", "not checked yet")
