"""Expiring approval requests nobody decided in time (`expires_after`).

A click on an expired request is refused and marks it expired on the deployment line;
`expire_requests` marks those nobody clicks, so that the line (and the card's JSON) says so
too. Nothing schedules it yet: the scheduler notes expired requests on the card itself
(`scheduler.card_jobs`). Whether a request has expired is `request.standing`'s decision.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select

from correlation.approval_state import RequestState
from devexbot.approvals.card_events import mark_expired
from devexbot.approvals.request import marked_expired, standing
from devexbot.store import Card

if TYPE_CHECKING:
    from devexbot.services import Services

# Cards whose last news is older than the longest expiry by this much were swept before.
LOOKBACK = timedelta(days=7)


def expire_requests(services: Services, now: datetime) -> list[str]:
    """Mark every open request that has expired as expired on its card's deployment line;
    returns their keys. Safe to call as often as you like, on any replica."""
    config = services.config
    spans = [span for env in config.approvals for signoff in (False, True)
             if (span := config.approval_expiry(env, signoff=signoff)) is not None]
    if not spans:
        return []
    since = now - max(spans) - LOOKBACK
    with services.db.read() as session:
        cards = [
            services.card_loader.load(row)
            for row in session.scalars(select(Card).where(Card.superseded_by.is_(None),
                                                          Card.updated_at >= since))
        ]
    expired = []
    for card in cards:
        for deployment in card.deployments:
            if config.approval_policy(deployment.environment) is None:
                continue  # nobody decides it from here: nothing to mark
            found = standing(card, deployment, config, now)
            if found is None or found.state is not RequestState.EXPIRED \
                    or marked_expired(deployment, found.request):
                continue
            if mark_expired(services, found.request):
                expired.append(found.request.key)
    return expired
