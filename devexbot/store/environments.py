"""What runs where: each environment's live commit, kept in `environment_state` by ingest.

The live commit of (repo, environment) is the one whose successful deployment has the
latest event time, so an older commit deployed again later (a rollback) is live again, and
deliveries arriving out of order end in the same state. A table rather than a query over
`events`: one conditional upsert per successful deployment in ingest, one indexed read for
`/devex where` and the API, and it survives the retention that prunes old events.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from correlation import Event, Status
from correlation.card import iso
from devexbot.store import Card, EnvironmentState
from devexbot.store.upsert import insert_for


@dataclass(frozen=True)
class Live:
    """A commit live in an environment."""

    repo: str
    environment: str
    sha: str
    since: datetime
    by: str | None
    url: str | None
    card_id: int | None
    slack_permalink: str | None = None
    slack_channel: str | None = None
    slack_ts: str | None = None
    slack_thread_ts: str | None = None  # its message is a reply in this thread
    message: str | None = None
    commit_url: str | None = None

    @property
    def short_sha(self) -> str:
        return self.sha[:7]

    def to_json(self) -> dict[str, Any]:
        """DESIGN.md's `{"environment", "sha", "since", "by", "card"}`, and a few more."""
        return {"repo": self.repo, "environment": self.environment, "sha": self.sha,
                "since": iso(self.since), "by": self.by,
                "card": f"/api/cards/{self.repo}/{self.sha}", "url": self.url,
                "slack": self.slack_permalink}


def record_deployments(session: Session, card: Card, events: Sequence[Event],
                       now: datetime) -> None:
    """Ingest hook: a successful deployment makes its commit live, unless a later one is."""
    for event in events:
        if event.kind != "deployment" or event.status is not Status.SUCCESS:
            continue
        by = event.data.get("creator")
        values = {
            "environment": event.name[:100], "sha": event.sha, "since": event.at,
            "by": str(by)[:100] if by else None, "url": _url(event.data.get("url")),
            "card_id": card.id, "updated_at": now,
        }
        stmt = insert_for(session, EnvironmentState).values(
            repo=event.repo, env_key=event.name.casefold()[:100], **values)
        newer = or_(EnvironmentState.since < stmt.excluded.since,
                    and_(EnvironmentState.since == stmt.excluded.since,
                         EnvironmentState.sha < stmt.excluded.sha))
        session.execute(stmt.on_conflict_do_update(
            index_elements=["repo", "env_key"], set_=values, where=newer))


def _url(url: object) -> str | None:
    return url if isinstance(url, str) and len(url) <= 500 else None


def live_environments(session: Session, repo: str | None = None,
                      order: Sequence[str] = (), *, environment: str | None = None
                      ) -> list[Live]:
    """Every environment's live commit (of one repo), in the config's environment order."""
    query = select(EnvironmentState, Card).outerjoin(Card, Card.id == EnvironmentState.card_id)
    if repo is not None:
        query = query.where(EnvironmentState.repo == repo.lower())
    if environment is not None:
        query = query.where(EnvironmentState.env_key == environment.casefold()[:100])
    rank = {env.casefold(): i for i, env in reversed(list(enumerate(order)))}
    found = []
    for state, card in session.execute(query):
        doc = card.doc if card is not None else {}
        found.append(Live(
            repo=state.repo, environment=state.environment, sha=state.sha, since=state.since,
            by=state.by, url=state.url, card_id=state.card_id,
            slack_permalink=card.slack_permalink if card is not None else None,
            slack_channel=card.slack_channel if card is not None else None,
            slack_ts=card.slack_ts if card is not None else None,
            slack_thread_ts=card.slack_thread_ts if card is not None else None,
            message=doc.get("message"), commit_url=doc.get("url"),
        ))
    return sorted(found, key=lambda e: (e.repo, rank.get(e.environment.casefold(), len(rank)),
                                        e.environment.casefold()))


def live_in(session: Session, repo: str, environment: str) -> Live | None:
    """The commit live in one environment, if any deployment to it succeeded."""
    found = live_environments(session, repo, environment=environment)
    return found[0] if found else None
