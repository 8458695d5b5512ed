"""Expiring approval requests nobody decided in time (`expires_after`).

A click on an expired request is refused and marks it expired on the deployment line;
`RequestExpiry` marks those nobody clicks, so that the line (and the card's JSON) says so
too. Nothing schedules it yet: the scheduler notes expired requests on the card itself
(`scheduler.card_jobs`). Whether a request has expired is decided by
`correlation.approval_request.standing`.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from correlation.approval_request import marked_expired, standing
from correlation.approval_state import RequestState
from devexbot.approvals.card_events import ApprovalEvents
from devexbot.config import BotConfig
from devexbot.store import Card, Database
from devexbot.store.cards import CardLoader

# Cards whose last news is older than the longest expiry by this much were swept before.
LOOKBACK = timedelta(days=7)


class RequestExpiry:
    """Marks the requests nobody decided in time as expired on their cards."""

    def __init__(self, config: BotConfig, db: Database, card_loader: CardLoader,
                 events: ApprovalEvents) -> None:
        self._config, self._db, self._card_loader, self._events = config, db, card_loader, events

    def expire(self, now: datetime) -> list[str]:
        """Mark every open request that has expired as expired on its card's deployment line;
        returns their keys. Safe to call as often as you like, on any replica."""
        config = self._config
        policies = config.policies()
        spans = [span for env in config.approvals for signoff in (False, True)
                 if (span := config.approval_expiry(env, signoff=signoff)) is not None]
        if not spans:
            return []
        since = now - max(spans) - LOOKBACK
        with self._db.read() as session:
            cards = [
                self._card_loader.load(row)
                for row in session.scalars(select(Card).where(Card.superseded_by.is_(None),
                                                              Card.updated_at >= since))
            ]
        expired = []
        for card in cards:
            for deployment in card.deployments:
                if config.approval_policy(deployment.environment) is None:
                    continue  # nobody decides it from here: nothing to mark
                found = standing(card, deployment, policies, now)
                if found is None or found.state is not RequestState.EXPIRED \
                        or marked_expired(deployment, found.request):
                    continue
                if self._events.mark_expired(found.request):
                    expired.append(found.request.key)
        return expired
