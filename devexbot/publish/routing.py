"""Where a card goes: the shell reads the `/devex subscribe` routes from the database and
`correlation.routing.destination` decides, after the config's routes and before
`SLACK_DEFAULT_CHANNEL`."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from correlation.routing import Destination, RouteRule, destination
from devexbot.store import Subscription


def subscription_route(sub: Subscription) -> RouteRule:
    return RouteRule(repos=(sub.repo,), channel=sub.channel,
                     branches=tuple(sub.branches) or ("*",), labels=tuple(sub.labels))


class CardRouter:
    """Resolves a card's channel from config routes, subscriptions and the default."""

    def __init__(self, routes: Sequence[RouteRule], default_channel: str | None) -> None:
        self.routes = tuple(routes)
        self.default_channel = default_channel

    def destination(self, session: Session, card: dict[str, Any]) -> Destination | None:
        return destination(card, self.routes, _subscriptions(session), self.default_channel)


def _subscriptions(session: Session) -> Iterator[RouteRule]:
    """The subscriptions in the order they were made, read only if no config route took
    the card."""
    for sub in session.scalars(select(Subscription).order_by(Subscription.id)):
        yield subscription_route(sub)
