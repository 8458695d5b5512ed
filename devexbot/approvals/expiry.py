"""Expiring approval requests nobody decided in time (`expires_after`).

A click on an expired request is refused and marks it expired on the card; the scheduler
calls `expire_requests` so that cards nobody clicks say so too.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select

from devexbot.approvals.card_events import mark_expired
from devexbot.approvals.request import marked_expired, request_for
from devexbot.db import Card

if TYPE_CHECKING:
    from devexbot.services import Services

# Cards whose last news is older than the longest expiry by this much were swept before.
LOOKBACK = timedelta(days=7)


def expire_requests(services: Services, now: datetime) -> list[str]:
    """Mark every open request older than its policy's `expires_after` as expired on its
    card; returns their keys. Safe to call as often as you like, on any replica."""
    config = services.config
    spans = [p.expires_after for p in config.approvals.values() if p.expires_after]
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
            policy = config.approval_policy(deployment.environment)
            request = request_for(card, deployment, policy)
            if policy is None or request is None or marked_expired(deployment, request):
                continue
            if request.expired(policy, now) and mark_expired(services, request):
                expired.append(request.key)
    return expired
