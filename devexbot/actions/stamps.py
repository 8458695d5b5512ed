"""The stamp an action leaves on its card ("Merged by @ana 14:02"): an event of the card,
so it folds, publishes and survives like one."""

from __future__ import annotations

import uuid
from typing import Any

from correlation import Event
from devexbot.actions.core import Click, Outcome
from devexbot.store import Database
from devexbot.store.cards import card_state, get_card
from devexbot.store.ingest import Ingest
from devexbot.store.models import utcnow


class Stamps:
    def __init__(self, db: Database, ingest: Ingest) -> None:
        self._db, self._ingest = db, ingest

    def stamp(self, click: Click, outcome: Outcome) -> None:
        """Record the outcome's stamp on the clicked card."""
        now = utcnow()
        data: dict[str, Any] = {"action": click.action.value.split(".", 1)[1],
                                "text": outcome.stamp, "by": click.user_id}
        if outcome.until_news_of:
            data["until_news_of"] = list(outcome.until_news_of)
            with self._db.read() as session:
                row = get_card(session, click.value.repo, click.value.sha)
                current = card_state(row).get(outcome.until_news_of) if row else None
            data["seen_at"] = current.at.isoformat() if current else None
        event = Event(repo=click.value.repo, sha=click.value.sha, source="devexbot",
                      kind="stamp", name=f"{data['action']}:{outcome.target or ''}:"
                                         f"{now.isoformat()}", at=now, data=data)
        self._ingest.record(source="devexbot", delivery_id=f"stamp:{uuid.uuid4()}",
                            event_type="stamp", events=[event])
