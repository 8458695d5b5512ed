"""The watch's checks: for each service, one cheap call that any working credentials may
make, with a short timeout and no retries of its own."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from slack_sdk import WebClient

from devexbot.clients.github import GitHubApi
from devexbot.clients.jenkins import jenkins_server
from devexbot.clients.jira import JiraClient
from devexbot.health.readiness import Readiness
from devexbot.health.watch import Probe
from devexbot.settings import Settings

CHECK_TIMEOUT = 5  # seconds


def service_probes(settings: Settings, *, slack: WebClient | None, github: GitHubApi,
                   jira: JiraClient | None) -> dict[str, Probe]:
    """`auth.test` for Slack, `GET /rate_limit` (or `/app`) for GitHub, `GET me/api/json`
    for Jenkins, `GET myself` for Jira: each only if the bot is configured to use it."""
    probes: dict[str, Probe] = {}
    if slack is not None:
        probes["slack"] = slack.auth_test
    if github.configured:
        probes["github"] = github.check
    if settings.jenkins_url:
        probes["jenkins"] = lambda: jenkins_server(settings, timeout=CHECK_TIMEOUT).get_whoami()
    if jira is not None:
        probes["jira"] = jira.myself
    return probes


def readiness_of(settings: Settings, github: GitHubApi, clock: Callable[[], datetime]
                 ) -> Readiness:
    """The readiness of the services the settings configure the bot to use."""
    used = {"slack": settings.slack_bot_token, "github": github.configured,
            "jenkins": settings.jenkins_url,
            "jira": settings.jira_url and settings.jira_api_token}
    return Readiness({name for name, configured in used.items() if configured}, clock=clock)
