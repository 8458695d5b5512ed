"""Doing the ticket updates: claim a due row, call Jira outside any transaction, record.

Jira unreachable or refusing (timeouts, 5xx, 429, 401/403): the row is tried again later,
with exponential back-off kept in the database, for as long as it takes; ingest never
waits on it. A permanent refusal (400/404: no such ticket, no such transition) ends the
row as `failed_permanent` and marks its card, whose Slack thread then says so once (see
`Outbox`). Rows are leased, so replicas and threads never do the same one.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update

from devexbot.clients.jira import JiraClient, JiraError
from devexbot.polling import PollingWorker
from devexbot.store import Database, TicketUpdate
from devexbot.store.cards import mark_dirty
from devexbot.store.models import utcnow
from devexbot.tickets.carried import CarriedTickets
from devexbot.tickets.directory import TicketDirectory
from devexbot.tickets.policy import TicketPolicy

log = logging.getLogger(__name__)

MAX_ERROR = 1000


@dataclass(frozen=True)
class Job:
    id: int
    ticket: str
    kind: str
    text: str | None
    transition: str | None
    attempts: int
    card_id: int | None


class TicketUpdater:
    def __init__(self, db: Database, jira: JiraClient, *,
                 directory: TicketDirectory,
                 policy: TicketPolicy | None = None,
                 clock: Callable[[], datetime] = utcnow) -> None:
        self.db, self.jira, self.directory = db, jira, directory
        self.policy, self.clock = policy or TicketPolicy(), clock

    def run_due(self, *, limit: int = 100) -> int:
        """Work every due row once; returns how many were tried."""
        tried = 0
        while tried < limit:
            job = self._claim()
            if job is None:
                break
            tried += 1
            self._work(job)
        return tried

    def _claim(self) -> Job | None:
        now = self.clock()
        with self.db.write() as session:
            row = session.scalar(
                select(TicketUpdate)
                .where(TicketUpdate.state == "pending", TicketUpdate.next_attempt_at <= now,
                       or_(TicketUpdate.claimed_until.is_(None),
                           TicketUpdate.claimed_until < now))
                .order_by(TicketUpdate.next_attempt_at, TicketUpdate.id)
                .limit(1)
                .with_for_update(skip_locked=True)
            )
            if row is None:
                return None
            row.claimed_until = now + timedelta(seconds=self.policy.lease)
            return Job(row.id, row.ticket, row.kind, row.text, row.transition, row.attempts,
                       row.card_id)

    def _work(self, job: Job) -> None:
        try:
            self._perform(job)
        except JiraError as exc:
            if exc.permanent:
                log.warning("ticket %s: %s failed for good: %s", job.ticket, job.kind,
                            exc.message)
                self._end(job, "failed_permanent", error=exc.message)
            else:
                self._retry(job, exc.message)
        except Exception as exc:
            log.exception("ticket %s: %s failed", job.ticket, job.kind)
            self._retry(job, f"{type(exc).__name__}: {exc}")
        else:
            self._end(job, "done")

    def _perform(self, job: Job) -> None:
        if job.kind == "transition":
            assert job.transition is not None
            if self._transition(job.ticket, job.transition):
                try:
                    self.directory.refresh(job.ticket)  # the card shows the new status
                except Exception:  # the transition is made: that is what counts
                    log.exception("ticket %s: reading its new status failed", job.ticket)
            return
        assert job.text is not None
        # A comment whose answer was lost (a timeout) may have been made: look before
        # posting again, so a retry never comments twice.
        if job.attempts and _same(job.text, self.jira.comment_bodies(job.ticket)):
            return
        self.jira.add_comment(job.ticket, job.text)

    def _transition(self, key: str, target: str) -> bool:
        """Move the ticket to the status `target`; False if it already is there."""
        issue = self.jira.issue(key)
        if issue is None:
            raise JiraError(f"{key} does not exist (or the bot may not see it)",
                            status=404, permanent=True)
        wanted = target.casefold()
        if (issue.status or "").casefold() == wanted:
            return False
        transitions = self.jira.transitions(key)
        chosen = next((t for t in transitions if (t.to or "").casefold() == wanted), None) or \
            next((t for t in transitions if t.name.casefold() == wanted), None)
        if chosen is None:
            offered = ", ".join(f"{t.name} → {t.to}" for t in transitions) or "none"
            raise JiraError(f"{key} has no transition to “{target}” from “{issue.status}” "
                            f"(Jira offers: {offered})", status=400, permanent=True)
        self.jira.transition(key, chosen.id)
        return True

    def _end(self, job: Job, state: str, *, error: str | None = None) -> None:
        now = self.clock()
        with self.db.write() as session:
            session.execute(update(TicketUpdate).where(TicketUpdate.id == job.id).values(
                state=state, claimed_until=None, done_at=now, attempts=job.attempts + 1,
                last_error=error[:MAX_ERROR] if error else None))
            # The card shows the ticket's new status, or says in its thread what failed.
            if job.card_id is not None and (state != "done" or job.kind == "transition"):
                mark_dirty(session, job.card_id, now)

    def _retry(self, job: Job, error: str) -> None:
        attempts = job.attempts + 1
        wait = self.policy.backoff(attempts)
        log.info("ticket %s: %s failed (attempt %d), retrying in %.0fs: %s", job.ticket,
                 job.kind, attempts, wait, error)
        with self.db.write() as session:
            session.execute(update(TicketUpdate).where(TicketUpdate.id == job.id).values(
                attempts=attempts, claimed_until=None, last_error=error[:MAX_ERROR],
                next_attempt_at=self.clock() + timedelta(seconds=wait)))


def _same(text: str, bodies: list[str]) -> bool:
    wanted = text.strip()
    return any(body.strip() == wanted for body in bodies)


class TicketWorker(PollingWorker):
    """Works out the tickets each deploy brought (`CarriedTickets`), then does the updates
    they and everything else are owed (`TicketUpdater`), in a thread: woken by ingest, and
    polling."""

    def __init__(self, updater: TicketUpdater, carried: CarriedTickets, *,
                 poll: float | None = None) -> None:
        super().__init__(self.run_due, name="ticket-updates",
                         poll=poll if poll is not None else updater.policy.poll)
        self.updater, self.carried = updater, carried

    def run_due(self) -> int:
        """One pass; how many deploys and updates were tried."""
        return self.carried.run_due() + self.updater.run_due()
