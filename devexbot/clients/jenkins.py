"""Jenkins' remote API through python-jenkins (it fetches the CSRF crumb itself)."""

from __future__ import annotations

import jenkins

from devexbot.errors import DevexbotError
from devexbot.settings import Settings

TIMEOUT = 15


class JenkinsNotConfigured(DevexbotError):
    def __init__(self) -> None:
        super().__init__("the bot has no Jenkins API access (JENKINS_URL, JENKINS_USER, "
                         "JENKINS_API_TOKEN)")


def jenkins_server(settings: Settings) -> jenkins.Jenkins:
    if not settings.jenkins_url:
        raise JenkinsNotConfigured()
    token = settings.jenkins_api_token.get_secret_value() if settings.jenkins_api_token else None
    return jenkins.Jenkins(settings.jenkins_url, username=settings.jenkins_user,
                           password=token, timeout=TIMEOUT)


class JenkinsJobs:
    """Starts Jenkins jobs; JenkinsNotConfigured when the bot has no Jenkins access (said
    at the attempt, so a bot without Jenkins still starts)."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings

    def build_job(self, name: str, parameters: dict[str, str] | None = None) -> int:
        """Queue a build of the job; Jenkins' queue item id."""
        queue_id: int = jenkins_server(self._settings).build_job(name, parameters=parameters)
        return queue_id
