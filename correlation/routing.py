"""Which channels a card goes to: the first config route that takes it, and every
`/devex subscribe` route that takes it (one message per channel), else the default
channel. A card no route takes is never posted.

Decided here from the card's JSON and the routes as plain data; the shell reads the
subscriptions (`devexbot.publish.routing`). What a subscription takes and how the bot
says so in Slack come from the same `SubscriptionScope`, so they cannot disagree.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any, Literal

__all__ = ["Destination", "RouteRule", "SubscriptionScope", "describe_rules", "destination",
           "destinations", "matches_any", "route_takes"]


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
    if route.labels and not {label.casefold() for label in route.labels} & {
            str(label).casefold() for label in pr.get("labels") or ()}:
        return False  # GitHub's label names are unique case aside
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


def destinations(card: Mapping[str, Any], routes: Iterable[RouteRule],
                 subscriptions: Iterable[RouteRule],
                 default_channel: str | None) -> tuple[Destination, ...]:
    """Every channel the card goes to, in order: the first config route that takes it,
    then each subscription that takes it (a channel named twice, once); the default
    channel when none does; none: the card is not posted."""
    found: dict[str, Destination] = {}
    for route in routes:
        if route_takes(route, card):
            found[route.channel] = Destination(route.channel, route, "config")
            break
    for route in subscriptions:
        if route.channel not in found and route_takes(route, card):
            found[route.channel] = Destination(route.channel, route, "subscription")
    if found:
        return tuple(found.values())
    if default_channel and not str(card.get("branch") or "").lower().startswith(
            MERGE_QUEUE_PREFIX):
        return (Destination(default_channel, None, "default"),)
    return ()


def destination(card: Mapping[str, Any], routes: Iterable[RouteRule],
                subscriptions: Iterable[RouteRule],
                default_channel: str | None) -> Destination | None:
    """The first of `destinations`: the route whose nudge limits and settings the card
    follows; None: the card is not posted."""
    found = destinations(card, routes, subscriptions, default_channel)
    return found[0] if found else None


# --- `/devex subscribe`, and routes in people's words -------------------------------------

LABEL_PREFIX = "+label:"


@dataclass(frozen=True)
class SubscriptionScope:
    """What `/devex subscribe owner/repo [branch-glob ...] [+label:name ...]` asks for: the
    commits on any of the branches, and the PRs with any of the labels. Only branches:
    just those; only labels: just those PRs; neither: every commit."""

    repo: str
    branches: tuple[str, ...] = ()
    labels: tuple[str, ...] = ()

    @classmethod
    def parse(cls, repo: str, words: Sequence[str]) -> SubscriptionScope:
        """The scope the command's words after the repo name; `ValueError` names a word
        it cannot read."""
        branches: list[str] = []
        labels: list[str] = []
        for word in words:
            if word.startswith(LABEL_PREFIX) and word[len(LABEL_PREFIX):]:
                labels.append(word[len(LABEL_PREFIX):])
            elif word.startswith("+"):
                raise ValueError(word)
            else:
                branches.append(word)
        return cls(repo, tuple(dict.fromkeys(branches)), tuple(dict.fromkeys(labels)))

    def rules(self, channel: str) -> tuple[RouteRule, ...]:
        """The routes to `channel` it makes; a card any of them takes is posted there."""
        repos = (self.repo,)
        if not self.branches and not self.labels:
            return (RouteRule(repos=repos, channel=channel),)
        rules = []
        if self.branches:
            rules.append(RouteRule(repos=repos, channel=channel, branches=self.branches))
        if self.labels:
            rules.append(RouteRule(repos=repos, channel=channel, labels=self.labels))
        return tuple(rules)

    def describe(self) -> str:
        """What it takes, in the words the bot confirms it with."""
        return describe_rules(self.rules(""))


def describe_rules(rules: Iterable[RouteRule]) -> str:
    """What routes take, in people's words: `commits on main or release/*, and PRs
    labelled deploy`."""
    return ", and ".join(_describe(rule) for rule in rules)


def _describe(rule: RouteRule) -> str:
    every_branch = rule.branches == ("*",)
    if rule.labels:
        text = f"PRs labelled {_either(rule.labels)}"
        if not every_branch and not rule.pull_requests:
            text += f" on {_either(rule.branches)}"
    else:
        text = "every commit" if every_branch else f"commits on {_either(rule.branches)}"
        if rule.pull_requests and not every_branch:
            text += " and open PRs"
    if rule.exclude_branches:
        text += f" (never {_either(rule.exclude_branches)})"
    return text


def _either(names: Sequence[str]) -> str:
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"
