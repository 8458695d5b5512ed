"""The important piece of a failed build's log, for the failure reply in the card's thread:
GitHub Actions job logs and Jenkins console output, when their APIs are configured."""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Sequence
from datetime import datetime

import requests

from correlation.card import CheckLine, CommitCard
from correlation.events import Slot
from correlation.status import Status
from devexbot.clients.github import TIMEOUT, GitHubApi
from devexbot.clients.jenkins import jenkins_server
from devexbot.settings import Settings

log = logging.getLogger(__name__)

MAX_LOGS = 2  # the reply has room for a couple; more would bury the first
MAX_KEPT = 64  # excerpts kept after reading, in case their reply has to be sent again
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
    def __init__(self, settings: Settings, github: GitHubApi) -> None:
        self._settings, self._github = settings, github
        # Excerpts of logs already read, so a reply that could not be sent and is tried
        # again by a later flush does not download them again. A cache: each replica
        # keeps its own.
        self._read: dict[tuple[str, Slot, datetime], str] = {}
        self._lock = threading.Lock()

    def excerpts(self, card: CommitCard, checks: Sequence[CheckLine]) -> dict[str, str]:
        """Check name → the relevant lines of its log, for those of the failed `checks`
        whose log we can read; each log is downloaded once."""
        found: dict[str, str] = {}
        for check in checks:
            if len(found) >= MAX_LOGS:
                break
            if check.status is not Status.FAILURE:
                continue
            if excerpt := self._excerpt(card, check):
                found[check.name] = excerpt
        return found

    def _excerpt(self, card: CommitCard, check: CheckLine) -> str | None:
        key = (card.repo, check.slot, check.updated_at)
        with self._lock:
            if key in self._read:
                return self._read[key]
        try:
            text = self._log_of(card, check)
        except Exception as exc:  # a log is a nicety: never lose the reply over it
            log.warning("could not fetch the log of %s on %s@%s: %s", check.name,
                        card.repo, card.short_sha, exc)
            return None
        if not text or not text.strip():
            return None
        excerpt = relevant_lines(text)
        with self._lock:
            if len(self._read) >= MAX_KEPT:
                del self._read[next(iter(self._read))]  # the oldest
            self._read[key] = excerpt
        return excerpt

    def _log_of(self, card: CommitCard, check: CheckLine) -> str | None:
        details = check.details
        if check.source == "jenkins" and self._settings.jenkins_url:
            job, number = details.get("job"), details.get("build_number")
            if isinstance(job, str) and isinstance(number, int):
                output: str = jenkins_server(self._settings).get_build_console_output(job,
                                                                                      number)
                return output
        if check.kind == "job" and self._github.configured:
            job_id = details.get("job_id")
            if isinstance(job_id, int):
                job = self._github.repo(card.repo).get_workflow_job(job_id)
                response = requests.get(job.logs_url(), timeout=TIMEOUT)
                response.raise_for_status()
                return response.text
        return None
