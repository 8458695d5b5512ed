"""The runbook runner and how it reaches Jenkins, assembled for the composition root."""

from __future__ import annotations

from collections.abc import Callable

from pydantic import SecretStr
from slack_sdk import WebClient

from devexbot.config import RunbookSettings
from devexbot.publish.pacing import Pacing
from devexbot.runbooks.executors.jenkins import JenkinsAccess, JenkinsExecutor
from devexbot.runbooks.executors.local import LocalExecutor
from devexbot.runbooks.executors.python import PythonExecutor
from devexbot.runbooks.runner import RunbookRunner
from devexbot.runbooks.runs import RunStore
from devexbot.settings import Settings
from devexbot.slack.authz import Authorizer


def jenkins_access(settings: Settings) -> JenkinsAccess | None:
    """How the Jenkins runbooks reach Jenkins (None: no `JENKINS_URL`)."""
    if not settings.jenkins_url:
        return None
    token: SecretStr | None = settings.jenkins_api_token
    return JenkinsAccess(settings.jenkins_url, settings.jenkins_user,
                         token.get_secret_value() if token else None)


def build_runner(options: RunbookSettings, runs: RunStore, authorizer: Authorizer,
                 client: WebClient, pacing: Pacing, *, jenkins: JenkinsAccess | None,
                 channel_id: Callable[[str], str] | None = None) -> RunbookRunner:
    """The runbook runner with its three executors."""
    return RunbookRunner(
        store=runs, authorizer=authorizer, client=client, pacing=pacing, settings=options,
        executors={
            "local": LocalExecutor(kill_grace=options.kill_grace),
            "jenkins": JenkinsExecutor(jenkins, poll=options.jenkins_poll,
                                       kill_grace=options.kill_grace),
            "python": PythonExecutor(kill_grace=options.kill_grace),
        },
        channel_id=channel_id)
