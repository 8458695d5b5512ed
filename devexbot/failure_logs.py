"""The important piece of a failed build's log, for the failure reply in the card's thread:
GitHub Actions job logs and Jenkins console output, when their APIs are configured."""

from __future__ import annotations

import logging
import re

import requests

from correlation.card import CheckLine, CommitCard
from correlation.status import Status
from devexbot.github_api import TIMEOUT, GitHubApi
from devexbot.jenkins_api import jenkins_server
from devexbot.settings import Settings

log = logging.getLogger(__name__)

MAX_LOGS = 2  # the reply has room for a couple; more would bury the first
CONTEXT_BEFORE, CONTEXT_AFTER, TAIL = 30, 10, 40
_GITHUB_TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z ")
_TROUBLE = re.compile(r"(?i)\b(error|failed|failure|fatal|exception|traceback|assert\w*)\b")
_NOISE = re.compile(r"^(##\[(group|endgroup)\]|Post job cleanup|Cleaning up orphan)")


def relevant_lines(text: str) -> str:
    """Around the last line that says something went wrong; else the end of the log."""
    lines = [_GITHUB_TIMESTAMP.sub("", line) for line in text.splitlines()]
    lines = [line for line in lines if not _NOISE.match(line)]
    trouble = [i for i, line in enumerate(lines) if _TROUBLE.search(line)]
    if trouble:
        last = trouble[-1]
        return "\n".join(lines[max(0, last - CONTEXT_BEFORE):last + CONTEXT_AFTER + 1])
    return "\n".join(lines[-TAIL:])


class FailureLogs:
    def __init__(self, settings: Settings, github: GitHubApi | None) -> None:
        self._settings, self._github = settings, github

    def excerpts(self, card: CommitCard) -> dict[str, str]:
        """Check name → the relevant lines of its log, for the failed checks we can read."""
        found: dict[str, str] = {}
        for check in card.checks:
            if len(found) >= MAX_LOGS:
                break
            if check.status is not Status.FAILURE:
                continue
            try:
                text = self._log_of(card, check)
            except Exception as exc:  # a log is a nicety: never lose the reply over it
                log.warning("could not fetch the log of %s on %s@%s: %s", check.name,
                            card.repo, card.short_sha, exc)
                continue
            if text and text.strip():
                found[check.name] = relevant_lines(text)
        return found

    def _log_of(self, card: CommitCard, check: CheckLine) -> str | None:
        details = check.details
        if check.source == "jenkins" and self._settings.jenkins_url:
            job, number = details.get("job"), details.get("build_number")
            if isinstance(job, str) and isinstance(number, int):
                output: str = jenkins_server(self._settings).get_build_console_output(job,
                                                                                      number)
                return output
        if check.kind == "job" and self._github is not None and self._github.configured:
            job_id = details.get("job_id")
            if isinstance(job_id, int):
                job = self._github.repo(card.repo).get_workflow_job(job_id)
                response = requests.get(job.logs_url(), timeout=TIMEOUT)
                response.raise_for_status()
                return response.text
        return None
