"""The comments and transitions tickets are owed, enqueued as `ticket_updates` rows.

Deploys enqueue in ingest's own transaction (`DeployTicketUpdates`: inserts only, no call
to Jira); decisions made in Slack through `DecisionComments`. A row is unique
per (ticket, environment, sha, kind), so however many times a deployment is delivered,
each ticket gets one comment and one transition per environment per commit.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from correlation import Event, Status
from correlation.tickets import is_jira_key
from devexbot.config import Tickets
from devexbot.slack.people import People
from devexbot.store import Card, Database, TicketUpdate
from devexbot.store.cards import get_card
from devexbot.store.upsert import insert_for

DECISIONS = {"approved", "changes_requested", "rejected"}


def deploy_comment(doc: Mapping[str, Any], environment: str, url: str | None) -> str:
    """"Deployed to staging in 6dcb09b — try it: https://…", and which commit it is."""
    short = str(doc.get("sha") or "")[:7]
    text = f"Deployed to {environment} in {short}"
    text += f" — try it: {url}" if url else "."
    return text + _commit_line(doc)


def decision_comment(doc: Mapping[str, Any], environment: str, decision: str, by: str,
                     reason: str | None) -> str:
    short = str(doc.get("sha") or "")[:7]
    reason = (reason or "").strip()
    if decision == "approved":
        text = f"Approved for {environment} by {by} ({short})"
        text += f": {reason}" if reason else "."
    elif decision == "changes_requested":
        text = f"Changes requested before {environment} by {by} ({short})"
        text += f": {reason}" if reason else "."
    else:
        text = f"Deploy of {short} to {environment} rejected by {by}"
        text += f": {reason}" if reason else "."
    return text + _commit_line(doc)


def _commit_line(doc: Mapping[str, Any]) -> str:
    line = str(doc.get("repo") or "")
    if doc.get("message"):
        line += f": {doc['message']}"
    if doc.get("url"):
        line += f" ({doc['url']})"
    return f"\n{line}" if line else ""


def jira_keys(doc: Mapping[str, Any]) -> list[str]:
    return [str(t["key"]) for t in doc.get("tickets") or () if is_jira_key(str(t.get("key")))]


def enqueue(session: Session, rows: Sequence[dict[str, Any]], now: datetime) -> int:
    """Insert the rows not there yet; returns how many were new."""
    if not rows:
        return 0
    sha = rows[0]["sha"]
    existing = {tuple(row) for row in session.execute(
        select(TicketUpdate.ticket, TicketUpdate.environment, TicketUpdate.kind)
        .where(TicketUpdate.sha == sha))}
    new = [r for r in rows if (r["ticket"], r["environment"], r["kind"]) not in existing]
    for row in new:  # one by one, in order: a ticket's comment comes before its transition
        stmt = insert_for(session, TicketUpdate).values(
            state="pending", attempts=0, next_attempt_at=now, created_at=now, **row)
        session.execute(stmt.on_conflict_do_nothing(
            index_elements=["ticket", "environment", "sha", "kind"]))
    return len(new)


class DeployTicketUpdates:
    """Ingest hook: a commit that reached an environment owes its tickets what the config's
    `tickets.on_deploy` says for that environment. Also when the ticket is named later
    (a PR edited after the deploy): the rows are unique, so nothing is owed twice."""

    def __init__(self, config: Tickets) -> None:
        self.config = config

    def __call__(self, session: Session, card: Card, events: Sequence[Event],
                 now: datetime) -> None:
        if not self.config.on_deploy:
            return
        doc = card.doc or {}
        keys = jira_keys(doc)
        if not keys:
            return
        rows = []
        for environment, url in _reached(doc, events).values():
            rule = self.config.on_deploy_to(environment)
            if rule is None:
                continue
            for key in keys:
                base = {"ticket": key, "environment": environment.casefold()[:100],
                        "sha": card.sha, "repo": card.repo, "card_id": card.id}
                if rule.comment:
                    rows.append({**base, "kind": "comment",
                                 "text": deploy_comment(doc, environment, url)})
                if rule.transition:
                    rows.append({**base, "kind": "transition", "transition": rule.transition})
        enqueue(session, rows, now)


def _reached(doc: Mapping[str, Any], events: Iterable[Event]) -> dict[str, tuple[str, Any]]:
    """Environments the commit reached: a successful deployment on the card, or in this
    delivery (a later failure there may hide it on the card)."""
    reached: dict[str, tuple[str, Any]] = {}
    for line in doc.get("deployments") or ():
        if line.get("status") == Status.SUCCESS.value:
            reached[str(line["environment"]).casefold()] = (line["environment"], line.get("url"))
    for event in events:
        if event.kind == "deployment" and event.status is Status.SUCCESS:
            reached.setdefault(event.name.casefold(), (event.name, event.data.get("url")))
    return reached


def _check(decision: str) -> None:
    if decision not in DECISIONS:
        raise ValueError(f"decision must be one of {sorted(DECISIONS)}, not {decision!r}")


class DecisionComments:
    """A product owner approved (`approved`), asked for changes (`changes_requested`) or
    rejected (`rejected`) the deploy of a commit from Slack: each of the commit's tickets
    gets a comment saying so. `wake` tells the ticket updates there is work."""

    def __init__(self, db: Database, people: People, wake: Callable[[], None], *,
                 clock: Callable[[], datetime]) -> None:
        self._db, self._people, self._wake, self._clock = db, people, wake, clock

    def comment(self, repo: str, sha: str, environment: str, decision: str, by: str,
                reason: str | None = None) -> int:
        """Enqueue the comments on the decision of `by` (a Slack user id or a name); how
        many were enqueued (0 when already enqueued, or the commit is unknown)."""
        _check(decision)
        who = self._people.github_login(by) or by
        now = self._clock()
        with self._db.write() as session:
            card = get_card(session, repo, sha)
            if card is None:
                return 0
            text = decision_comment(card.doc or {}, environment, decision, who, reason)
            rows = [{"ticket": key, "environment": environment.casefold()[:100],
                     "sha": card.sha, "repo": card.repo, "card_id": card.id,
                     "kind": f"decision:{decision}", "text": text}
                    for key in jira_keys(card.doc or {})]
            added = enqueue(session, rows, now)
        if added:
            self._wake()
        return added


class NoDecisionComments:
    """Without Jira, or with `tickets.on_decision` off: decisions comment nowhere."""

    def comment(self, repo: str, sha: str, environment: str, decision: str, by: str,
                reason: str | None = None) -> int:
        _check(decision)
        return 0
