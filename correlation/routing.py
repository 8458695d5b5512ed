"""Which channel a card goes to: config routes first, then `/devex subscribe` routes, then
the default channel. A card no route takes is never posted.

Decided here from the card's JSON and the routes as plain data; the shell reads the
subscriptions (`devexbot.publish.routing`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any, Literal

__all__ = ["Destination", "RouteRule", "destination", "matches_any", "route_takes"]


@dataclass(frozen=True)
class RouteRule:
    """A route: which repos' cards, on which branches (or open PRs, or labels), go to which
    channel, and what it changes for them there."""

    repos: tuple[str, ...]
    channel: str
    branches: tuple[str, ...] = ("*",)
    exclude_branches: tuple[str, ...] = ()
    pull_requests: bool = False  # also the head commits of open PRs, whatever the branch
    labels: tuple[str, ...] = ()  # only PRs with one of these labels
    dm_author_on_failure: bool = False
    # The nudge and stuck-build limits this route sets (`schedule:`), by name.
    schedule: tuple[tuple[str, float], ...] = ()


@dataclass(frozen=True)
class Destination:
    channel: str
    route: RouteRule | None  # None for the default channel
    origin: Literal["config", "subscription", "default"]


MERGE_QUEUE_PREFIX = "gh-readonly-queue/"
"""GitHub's merge queue tests each queued PR on a temporary branch named so."""


def matches_any(value: str, globs: Iterable[str]) -> bool:
    """Whether `value` matches one of the globs, case aside."""
    return any(fnmatchcase(value.lower(), glob.lower()) for glob in globs)


def route_takes(route: RouteRule, card: Mapping[str, Any]) -> bool:
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
        return route.branches == ("*",) and not route.exclude_branches
    if matches_any(branch, route.exclude_branches):
        return False
    if route.pull_requests and pr.get("state") == "open":
        return True
    if branch.lower().startswith(MERGE_QUEUE_PREFIX):
        # A queue's temporary commits are not news of their own: only a route that names
        # the queue's branches takes them, never one that takes every branch.
        return any(glob.lower().startswith(MERGE_QUEUE_PREFIX) and matches_any(branch, [glob])
                   for glob in route.branches)
    return matches_any(branch, route.branches)


def destination(card: Mapping[str, Any], routes: Iterable[RouteRule],
                subscriptions: Iterable[RouteRule],
                default_channel: str | None) -> Destination | None:
    """The first config route that takes the card, else the first subscription, else the
    default channel; None: the card is not posted."""
    for route in routes:
        if route_takes(route, card):
            return Destination(route.channel, route, "config")
    for route in subscriptions:
        if route_takes(route, card):
            return Destination(route.channel, route, "subscription")
    if default_channel and not str(card.get("branch") or "").lower().startswith(
            MERGE_QUEUE_PREFIX):
        return Destination(default_channel, None, "default")
    return None
