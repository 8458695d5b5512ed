"""The comments and transitions tickets are owed, enqueued as `ticket_updates` rows.

Deploys enqueue in ingest's own transaction (`DeployTicketUpdates`: inserts only, no call
to Jira or GitHub); the tickets of the commits a deploy brought over what was live are
enqueued by the worker that asks GitHub for them (`CarriedTickets`); decisions made in
Slack through `DecisionComments`. A deploy's comment and transition are unique per
(ticket, environment, kind), so however many times a deployment is delivered, and however
many deploys bring a ticket to an environment, it gets one comment and one transition per
environment; a decision's comment is unique per commit too.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from correlation import Event, Status
from correlation.deploy_tickets import CarriedCommit, DeployedTicket, deploy_tickets
from correlation.tickets import TicketRules, is_jira_key
from devexbot.config import Tickets
from devexbot.config.tickets import OnDeploy
from devexbot.slack.people import People
from devexbot.store import Card, Database, TicketDeploy, TicketUpdate
from devexbot.store.cards import get_card
from devexbot.store.environments import live_in
from devexbot.store.upsert import insert_for

DECISIONS = {"approved", "changes_requested", "rejected"}


def deploy_comment(environment: str, sha: str, url: str | None, *, repo: str,
                   commit: CarriedCommit) -> str:
    """"Deployed to staging in 6dcb09b — try it: https://…", and the commit that names the
    ticket (the deployed one, or one it brought)."""
    text = f"Deployed to {environment} in {sha[:7]}"
    text += f" — try it: {url}" if url else "."
    return text + _commit_line({"repo": repo, "message": commit.first_line, "url": commit.url})


def deploy_rows(tickets: Iterable[DeployedTicket], rule: OnDeploy, *, environment: str,
                url: str | None, repo: str, sha: str, card_id: int | None
                ) -> list[dict[str, Any]]:
    """The `ticket_updates` rows a deploy of `sha` to `environment` owes its tickets."""
    rows: list[dict[str, Any]] = []
    for ticket in tickets:
        base = {"ticket": ticket.key, "environment": environment.casefold()[:100], "sha": sha,
                "repo": repo, "card_id": card_id}
        if rule.comment:
            rows.append({**base, "kind": "comment", "text": deploy_comment(
                environment, sha, url, repo=repo, commit=ticket.commit)})
        if rule.transition:
            rows.append({**base, "kind": "transition", "transition": rule.transition})
    return rows


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
    """The Jira keys of a card's tickets."""
    return [str(t["key"]) for t in doc.get("tickets") or () if is_jira_key(str(t.get("key")))]


def enqueue(session: Session, rows: Sequence[dict[str, Any]], now: datetime) -> int:
    """Insert the rows not there yet; returns how many were new."""
    added = 0
    for row in rows:  # one by one, in order: a ticket's comment comes before its transition
        stmt = insert_for(session, TicketUpdate).values(
            state="pending", attempts=0, next_attempt_at=now, created_at=now, **row)
        # Either unique key: a deploy's (ticket, environment, kind), a decision's with the sha.
        stmt = stmt.on_conflict_do_nothing().returning(TicketUpdate.id)
        added += len(session.execute(stmt).all())
    return added


class DeployTicketUpdates:
    """Ingest hook: a commit that reached an environment owes the tickets it brought there
    what the config's `tickets.on_deploy` says for that environment. Its own at once, also
    when one is named later (a PR edited after the deploy): nothing is owed twice. For a
    deploy in this delivery, a `TicketDeploy` row asks the worker for the tickets of the
    commits between what was live there and it: so this hook runs before
    `record_deployments` moves what is live."""

    def __init__(self, config: Tickets, rules: TicketRules) -> None:
        self.config, self.rules = config, rules

    def __call__(self, session: Session, card: Card, events: Sequence[Event],
                 now: datetime) -> None:
        if not self.config.on_deploy:
            return
        doc = card.doc or {}
        own = CarriedCommit(card.sha, message=str(doc.get("message") or ""),
                            url=doc.get("url"), card_tickets=tuple(jira_keys(doc)))
        tickets = deploy_tickets([own], deployed=card.sha, rules=self.rules)
        rows = []
        for environment, url in _reached(doc, events).values():
            rule = self.config.on_deploy_to(environment)
            if rule is not None:
                rows += deploy_rows(tickets, rule, environment=environment, url=url,
                                    repo=card.repo, sha=card.sha, card_id=card.id)
        enqueue(session, rows, now)
        for event in events:
            if (event.kind == "deployment" and event.status is Status.SUCCESS
                    and self.config.on_deploy_to(event.name) is not None):
                self._brought(session, card, event, now)

    def _brought(self, session: Session, card: Card, event: Event, now: datetime) -> None:
        """Ask for the tickets of the commits this deploy brings over what was live."""
        live = live_in(session, card.repo, event.name)
        if live is None or live.sha == card.sha or live.since > event.at:
            return  # nothing live to compare with, nothing new, or a later deploy is live
        url = event.data.get("url")
        stmt = insert_for(session, TicketDeploy).values(
            repo=card.repo, env_key=event.name.casefold()[:100], environment=event.name[:100],
            sha=card.sha, base=live.sha, url=url if isinstance(url, str) else None,
            card_id=card.id, state="pending", attempts=0, next_attempt_at=now, created_at=now)
        session.execute(stmt.on_conflict_do_nothing(index_elements=["repo", "env_key", "sha"]))


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
