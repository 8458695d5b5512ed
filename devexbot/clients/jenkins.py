"""Jenkins' remote API through python-jenkins (it fetches the CSRF crumb itself)."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

import jenkins
import requests

from correlation.events import ParseError
from correlation.retry import JenkinsBuild, read_jenkins_build
from devexbot.errors import DevexbotError
from devexbot.settings import Settings

TIMEOUT = 15


class JenkinsNotConfigured(DevexbotError):
    def __init__(self) -> None:
        super().__init__("the bot has no Jenkins API access (JENKINS_URL, JENKINS_USER, "
                         "JENKINS_API_TOKEN)")


class JenkinsUnavailable(DevexbotError):
    """Jenkins did not give an answer the bot can use."""


def jenkins_server(settings: Settings, *, timeout: float = TIMEOUT) -> jenkins.Jenkins:
    if not settings.jenkins_url:
        raise JenkinsNotConfigured()
    token = settings.jenkins_api_token.get_secret_value() if settings.jenkins_api_token else None
    return jenkins.Jenkins(settings.jenkins_url, username=settings.jenkins_user,
                           password=token, timeout=timeout)


def job_path(name: str) -> str:
    """`team/cleanup` as Jenkins' URL path: `job/team/job/cleanup/`."""
    return "".join(f"job/{quote(part, safe='')}/" for part in name.split("/"))


class JenkinsJobs:
    """Starts Jenkins jobs and reads their builds; JenkinsNotConfigured when the bot has no
    Jenkins access (said at the attempt, so a bot without Jenkins still starts)."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings

    def build_job(self, name: str, parameters: dict[str, str] | None = None) -> int:
        """Queue a build of the job; Jenkins' queue item id."""
        queue_id: int = jenkins_server(self._settings).build_job(name, parameters=parameters)
        return queue_id

    def build(self, name: str, number: int) -> JenkinsBuild | None:
        """Build `number` of the job as Jenkins recorded it (`.../<number>/api/json`); None
        if Jenkins has no such build."""
        server = jenkins_server(self._settings)
        url = f"{server.server}{job_path(name)}{number}/api/json"
        try:
            response: Any = server.jenkins_request(requests.Request("GET", url))
            answer = json.loads(response.text)
        except jenkins.NotFoundException:
            return None
        except (jenkins.JenkinsException, requests.RequestException, ValueError) as exc:
            first = str(exc).strip().splitlines()
            raise JenkinsUnavailable(
                f"Jenkins did not answer about {name} #{number}: "
                f"{first[0] if first else type(exc).__name__}") from exc
        try:
            return read_jenkins_build(name, number, answer)
        except ParseError as exc:
            raise JenkinsUnavailable(f"Jenkins' answer about {name} #{number} is not a "
                                     f"build: {exc}") from exc
