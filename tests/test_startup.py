"""What the bot says as it starts: every webhook whose secret is unset, Slack without a
signing secret; and nothing from Bolt about a token it does not use."""

from __future__ import annotations

import logging

import pytest

from tests.bot import BotFactory
from tests.fakes.slack_api import DEFAULT_TOKEN


def warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING
            and "DEVEXBOT_WEB_TOKEN" not in r.getMessage()]


@pytest.mark.sqlite_only
def test_each_unset_webhook_secret_and_the_missing_signing_secret_are_said_once(
        make_bot: BotFactory, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO):
        make_bot(github_webhook_secret=None, jenkins_webhook_token=None,
                 deploy_webhook_secret=None, slack_signing_secret=None)
    assert warnings(caplog) == [
        "SLACK_SIGNING_SECRET is not set: Slack's button clicks and slash commands to "
        "/slack/events are refused (503); set it, or SLACK_APP_TOKEN for Socket Mode",
        "GITHUB_WEBHOOK_SECRET is not set: every delivery to /webhooks/github is refused (503)",
        "JENKINS_WEBHOOK_TOKEN is not set: every delivery to /webhooks/jenkins is refused (503)",
        "DEPLOY_WEBHOOK_SECRET is not set: every delivery to /webhooks/deploy and "
        "/webhooks/flux is refused (503)",
    ]


@pytest.mark.sqlite_only
def test_a_configured_bot_starts_without_a_warning(
        make_bot: BotFactory, caplog: pytest.LogCaptureFixture,
        monkeypatch: pytest.MonkeyPatch) -> None:
    # As a deployment sets them: Bolt reads these from the environment by itself.
    monkeypatch.setenv("SLACK_BOT_TOKEN", DEFAULT_TOKEN)
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "test-signing-secret")
    with caplog.at_level(logging.INFO):
        make_bot()
    assert warnings(caplog) == []
    assert not [r for r in caplog.records if r.name.startswith(("slack_bolt", "devexbot.slack"))]


@pytest.mark.sqlite_only
def test_sign_in_with_slack_in_the_environment_leaves_slash_commands_working(
        make_bot: BotFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    # Sign in with Slack's client id and secret: Bolt, seeing them, would authorise every
    # request against an OAuth installation store the bot does not keep.
    monkeypatch.setenv("SLACK_BOT_TOKEN", DEFAULT_TOKEN)
    monkeypatch.setenv("SLACK_CLIENT_ID", "1700000000.1700000001")
    monkeypatch.setenv("SLACK_CLIENT_SECRET", "client-secret")
    bot = make_bot(slack_client_id="1700000000.1700000001", slack_client_secret="client-secret")
    response = bot.slack_sender.command("/devex", "subscriptions", channel_id="C0TEAM",
                                        channel_name="team", user_id="U0ANA")
    assert response.status_code == 200, response.text
    assert "subscription" in response.json()["text"]
