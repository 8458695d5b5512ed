"""The demo's bot: its settings (a throw-away database, its own secrets, the demo's GitHub and
Jenkins, Slack only when asked for a channel) and its config (an approval policy for test,
anyone may act), and the demo user a visitor on the machine acts as."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pydantic import SecretStr

from devexbot.config import ApprovalPolicy, BotConfig, Person
from devexbot.demo.delivery import DemoSecrets
from devexbot.demo.scenario import ENVIRONMENTS
from devexbot.demo.world_http import JENKINS_USER, DemoServices
from devexbot.settings import Settings, load_settings
from devexbot.web.access import DemoUser

DEMO_USER = DemoUser(slack_id="U0DEMOANA", name="demo-ana")


@dataclass(frozen=True)
class DemoSlack:
    """Slack for `devexbot demo --slack-channel`: the cards go to `channel`."""

    channel: str
    bot_token: SecretStr
    app_token: SecretStr | None = None
    signing_secret: SecretStr | None = None
    api_url: str = "https://slack.com/api/"
    team_id: str | None = None

    @classmethod
    def of(cls, channel: str, settings: Settings) -> DemoSlack | None:
        """Slack as the environment sets it up; None without SLACK_BOT_TOKEN."""
        if settings.slack_bot_token is None:
            return None
        return cls(channel, settings.slack_bot_token, settings.slack_app_token,
                   settings.slack_signing_secret, settings.slack_api_url,
                   settings.slack_team_id)


def demo_config() -> BotConfig:
    """Anyone may merge, retry and decide on test; the demo user is `demo-ana` on GitHub."""
    return BotConfig(environments=ENVIRONMENTS,
                     approvals={"test": ApprovalPolicy(approvers=["*"])},
                     people={DEMO_USER.name: Person(slack=DEMO_USER.slack_id)})


def demo_settings(folder: Path, keys: DemoSecrets, services: DemoServices, *,
                  slack: DemoSlack | None = None) -> Settings:
    """The demo bot's settings: nothing from the environment reaches a real GitHub, Jenkins,
    Jira or (unless `slack` says so) Slack."""
    return load_settings(
        _env_file=None, database_url=f"sqlite:///{folder}/devexbot.db",
        devexbot_config=folder / "devexbot.yaml",
        github_webhook_secret=keys.github, jenkins_webhook_token=keys.jenkins,
        deploy_webhook_secret=keys.deploy,
        github_token=services.github_token, github_app_id=None, github_app_private_key=None,
        github_api_url=services.url,
        jenkins_url=services.jenkins_url, jenkins_user=JENKINS_USER,
        jenkins_api_token=services.jenkins_token,
        jira_url=None, jira_user=None, jira_api_token=None,
        slack_bot_token=slack.bot_token if slack else None,
        slack_app_token=slack.app_token if slack else None,
        slack_signing_secret=slack.signing_secret if slack else None,
        slack_api_url=slack.api_url if slack else "https://slack.com/api/",
        slack_team_id=slack.team_id if slack else None,
        slack_default_channel=slack.channel if slack else None,
        slack_client_id=None, slack_client_secret=None, slack_enterprise_ids="",
        devexbot_web_token=None, devexbot_public_url=None, devexbot_trusted_proxies="",
        devexbot_api_access="login")
