"""Which channel a card goes to: config routes first, then `/devex subscribe` routes, then
`SLACK_DEFAULT_CHANNEL`. A card no route takes is never posted."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from devexbot.config import Route
from devexbot.store import Subscription


@dataclass(frozen=True)
class Destination:
    channel: str
    route: Route | None  # None for the default channel
    origin: str  # config | subscription | default


def matches_any(value: str, globs: Iterable[str]) -> bool:
    return any(fnmatchcase(value.lower(), glob.lower()) for glob in globs)


def route_takes(route: Route, card: dict[str, Any]) -> bool:
    """Whether `route` takes the card (its JSON), judged on repo, branch, PR and labels."""
    if not matches_any(card["repo"], route.repos):
        return False
    pr = card.get("pull_request") or {}
    if route.labels and not set(route.labels) & set(pr.get("labels") or ()):
        return False
    branch = card.get("branch")
    if branch is None:
        # Branch not known yet (only checks have arrived): only a route that takes every
        # branch can decide now; the others wait for the push or PR event.
        return route.branches == ["*"] and not route.exclude_branches
    if matches_any(branch, route.exclude_branches):
        return False
    if route.pull_requests and pr.get("state") == "open":
        return True
    return matches_any(branch, route.branches)


def subscription_route(sub: Subscription) -> Route:
    return Route(repos=[sub.repo], channel=sub.channel, branches=list(sub.branches) or ["*"],
                 labels=list(sub.labels))


class CardRouter:
    """Resolves a card's channel from config routes, subscriptions and the default."""

    def __init__(self, routes: Sequence[Route], default_channel: str | None) -> None:
        self.routes = tuple(routes)
        self.default_channel = default_channel

    def destination(self, session: Session, card: dict[str, Any]) -> Destination | None:
        for route in self.routes:
            if route_takes(route, card):
                return Destination(route.channel, route, "config")
        subscriptions = session.scalars(select(Subscription).order_by(Subscription.id))
        for sub in subscriptions:
            route = subscription_route(sub)
            if route_takes(route, card):
                return Destination(route.channel, route, "subscription")
        if self.default_channel:
            return Destination(self.default_channel, None, "default")
        return None
