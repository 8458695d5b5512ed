"""Which channels a card goes to: the first config route that takes it, and every
`/devex subscribe` route that takes it (one message per channel), else the default
channel. A card no route takes is never posted.

Decided here from the card's JSON and the routes as plain data; the shell reads the
subscriptions (`devexbot.publish.routing`). What a subscription takes and how the bot
says so in Slack come from the same `SubscriptionScope`, so they cannot disagree.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from fnmatch import fnmatchcase
from typing import Any, Literal

Per = Literal["commit", "pull_request"]
__all__ = ["Destination", "Per", "RouteRule", "SubscriptionScope", "author_matches",
           "card_author", "describe_rules", "destination", "destinations", "matches_any",
           "route_takes"]


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
    # Whose cards (the PR's author, else the commit's; GitHub logins, `author_matches`).
    exclude_authors: tuple[str, ...] = ()
    only_authors: tuple[str, ...] = ()
    per: Per = "commit"  # `pull_request`: one message per PR, its heads' history in its thread


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


def author_matches(login: str, patterns: Iterable[str]) -> bool:
    """Whether a GitHub login matches one of the patterns, case aside. Only `*` and `?`
    are wildcards: `[` and `]` are literal, so `dependabot[bot]` (and `*[bot]`) mean what
    they say, as GitHub's bot accounts are named."""
    return matches_any(login, (p.replace("[", "[[]") for p in patterns))


def card_author(card: Mapping[str, Any]) -> str | None:
    """Whose the card is: its PR's author, else its commit's (GitHub logins); None while
    neither is known."""
    pr = card.get("pull_request") or {}
    author = card.get("author") or {}
    login = pr.get("author") or author.get("login")
    return str(login) if login else None


def _author_takes(route: RouteRule, card: Mapping[str, Any]) -> bool:
    if not route.exclude_authors and not route.only_authors:
        return True
    login = card_author(card)
    if login is None:
        return False  # not known yet: the push or PR event will say, and the route decide
    if route.only_authors and not author_matches(login, route.only_authors):
        return False
    return not author_matches(login, route.exclude_authors)


def route_takes(route: RouteRule, card: Mapping[str, Any]) -> bool:
    """Whether `route` takes the card (its JSON), judged on repo, author, branch, PR and
    labels."""
    if not matches_any(card["repo"], route.repos) or not _author_takes(route, card):
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
OPTIONS = ("label", "exclude-authors", "only-authors", "per")
PER_WORDS: dict[str, Per] = {"commit": "commit", "pull_request": "pull_request",
                             "pull-request": "pull_request", "pr": "pull_request"}


@dataclass(frozen=True)
class SubscriptionScope:
    """What `/devex subscribe owner/repo [branch-glob ...] [+label:name ...]
    [exclude-authors:login,...] [only-authors:login,...] [per:pull_request]` asks for: the
    commits on any of the branches, and the PRs with any of the labels, by the authors
    asked for. Only branches: just those; only labels: just those PRs; neither: every
    commit. `per`: one message per commit, or per pull request."""

    repo: str
    branches: tuple[str, ...] = ()
    labels: tuple[str, ...] = ()
    exclude_authors: tuple[str, ...] = ()
    only_authors: tuple[str, ...] = ()
    per: Per = "commit"

    @classmethod
    def parse(cls, repo: str, words: Sequence[str]) -> SubscriptionScope:
        """The scope the command's words after the repo name; `ValueError` names a word
        it cannot read. A word with `:` is an option (git allows no `:` in a branch name);
        its leading `+` is optional."""
        found: dict[str, list[str]] = {option: [] for option in ("branch", *OPTIONS)}
        for word in words:
            option, colon, value = word.removeprefix("+").partition(":")
            if not colon:
                if word.startswith("+"):
                    raise ValueError(word)
                found["branch"].append(word)
                continue
            values = [v for v in value.split(",") if v] if option != "label" else [value]
            if option not in OPTIONS or not all(values) or not values:
                raise ValueError(word)
            if option == "per" and (len(values) != 1 or values[0].lower() not in PER_WORDS):
                raise ValueError(word)
            found[option] += values
        per = PER_WORDS[found["per"][-1].lower()] if found["per"] else "commit"
        def kept(option: str) -> tuple[str, ...]:
            return tuple(dict.fromkeys(found[option]))

        return cls(repo, kept("branch"), kept("label"), kept("exclude-authors"),
                   kept("only-authors"), per=per)

    def rules(self, channel: str) -> tuple[RouteRule, ...]:
        """The routes to `channel` it makes; a card any of them takes is posted there."""
        common = RouteRule(repos=(self.repo,), channel=channel,
                           exclude_authors=self.exclude_authors,
                           only_authors=self.only_authors, per=self.per)
        if not self.branches and not self.labels:
            return (common,)
        rules = []
        if self.branches:
            rules.append(replace(common, branches=self.branches))
        if self.labels:
            rules.append(replace(common, labels=self.labels))
        return tuple(rules)

    def describe(self) -> str:
        """What it takes, in the words the bot confirms it with."""
        return describe_rules(self.rules(""))


def describe_rules(rules: Iterable[RouteRule]) -> str:
    """What routes take, in people's words: `commits on main or release/*, and PRs
    labelled deploy`; what they share besides (whose, one message per PR) said once."""
    rules = list(rules)
    shared = {_filters(rule) for rule in rules}
    if len(shared) == 1:
        (filters,) = shared
        return ", and ".join(_describe(rule) for rule in rules) + filters
    return ", and ".join(_describe(rule) + _filters(rule) for rule in rules)


def _filters(rule: RouteRule) -> str:
    """Whose cards a route takes, and how it posts them, as the end of its description."""
    text = ""
    if rule.only_authors:
        text += f" by {_either(rule.only_authors)}"
    if rule.exclude_authors:
        text += f", not by {_either(rule.exclude_authors)}"
    if rule.per == "pull_request":
        text += "; one message per pull request"
    return text


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
