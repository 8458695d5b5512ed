"""Where a card goes: the shell reads the `/devex subscribe` routes from the database and
`correlation.routing.destinations` decides, with the config's routes and
`SLACK_DEFAULT_CHANNEL`."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from correlation.routing import (
    Destination,
    RouteRule,
    SubscriptionScope,
    destination,
    destinations,
)
from devexbot.store import Subscription


def subscription_scope(sub: Subscription) -> SubscriptionScope:
    return SubscriptionScope(sub.repo, tuple(sub.branches), tuple(sub.labels),
                             tuple(sub.exclude_authors or ()), tuple(sub.only_authors or ()),
                             per="pull_request" if sub.per == "pull_request" else "commit")


class CardRouter:
    """Resolves a card's channels from config routes, subscriptions and the default."""

    def __init__(self, routes: Sequence[RouteRule], default_channel: str | None) -> None:
        self.routes = tuple(routes)
        self.default_channel = default_channel

    def destinations(self, session: Session, card: dict[str, Any]) -> tuple[Destination, ...]:
        """Every channel the card goes to, the first first."""
        return destinations(card, self.routes, _subscriptions(session), self.default_channel)

    def destination(self, session: Session, card: dict[str, Any]) -> Destination | None:
        """The first of them: the route whose nudge limits the card follows."""
        return destination(card, self.routes, _subscriptions(session), self.default_channel)


def _subscriptions(session: Session) -> Iterator[RouteRule]:
    """The subscriptions' routes, in the order they were made."""
    for sub in session.scalars(select(Subscription).order_by(Subscription.id)):
        yield from subscription_scope(sub).rules(sub.channel)
