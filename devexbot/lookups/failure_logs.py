"""The important piece of a failed build's log, for the failure reply in the card's thread:
GitHub Actions job logs and Jenkins console output, when their APIs are configured. Read
once per failure by the card lookups and recorded on the card (see `log_records`); the
outbox's planner owes the reply once they are recorded."""

from __future__ import annotations

import logging

import requests
from sqlalchemy import select

from correlation.card import CheckLine, CommitCard
from correlation.log_excerpt import log_excerpt
from correlation.owed_replies import owed_failure_reply
from devexbot.clients.github import TIMEOUT, GitHubApi
from devexbot.clients.jenkins import jenkins_server
from devexbot.lookups.due import DueCard
from devexbot.lookups.found import Found
from devexbot.lookups.log_records import LogSources, log_event, log_key, recorded_logs
from devexbot.settings import Settings
from devexbot.store import Card, Database, Notification
from devexbot.store.cards import CardLoader, apply_events, card_state

log = logging.getLogger(__name__)

class FailureLogs:
    """Reads failed builds' logs from GitHub and Jenkins."""

    def __init__(self, settings: Settings, github: GitHubApi) -> None:
        self._settings, self._github = settings, github
        self.sources = LogSources(jenkins=bool(settings.jenkins_url),
                                  github=github.configured)

    def excerpt(self, card: CommitCard, check: CheckLine) -> str | None:
        """The relevant lines of the check's log; None when it has none. Raises when the
        log cannot be read."""
        text = self._log_of(card, check)
        if not text or not text.strip():
            return None
        return log_excerpt(text)

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


class LogLookup:
    """Reads the logs of the failures a card owes a reply for, and records them on it."""

    def __init__(self, db: Database, card_loader: CardLoader, logs: FailureLogs) -> None:
        self.db, self.card_loader, self.logs = db, card_loader, logs

    def look(self, due: DueCard) -> Found:
        card = due.card
        if card.superseded_by:
            return Found()  # a newer commit's card tells its failures
        with self.db.read() as session:
            row = session.get(Card, due.card_id)
            recorded = recorded_logs(card_state(row)) if row is not None else {}
            notified = set(session.scalars(select(Notification.key).where(
                Notification.card_id == due.card_id)))
        owed = owed_failure_reply(card, notified)
        if owed is None:
            return Found()
        events = []
        for check in self.logs.sources.wanted(owed.checks):
            if log_key(check) in recorded:
                continue  # read once per failure, by whichever replica came first
            try:
                excerpt = self.logs.excerpt(card, check)
            except Exception as exc:  # a log is a nicety: never hold the reply over it
                log.warning("could not fetch the log of %s on %s@%s: %s", check.name,
                            card.repo, card.short_sha, exc)
                excerpt = None
            events.append(log_event(card.repo, card.sha, check, excerpt))
        if not events:
            return Found()
        with self.db.write() as session:
            row = session.get(Card, due.card_id, with_for_update=True)
            if row is None:
                return Found()
            # Joined into the card's state as ingest would; the fold ignores them, so the
            # card's JSON stays, and the claim's finish marks the card for its reply.
            apply_events(row, events, rules=self.card_loader.rules)
        return Found(changed=True)
