"""Which channel a card goes to, decided from its JSON and the routes as a table: config
routes first, then subscriptions, then the default channel; and the route's own nudge
limits, read off the rule the decision chose."""

from __future__ import annotations

from typing import Any

import pytest

from correlation.routing import Destination, RouteRule, destination, route_takes
from devexbot.config import parse_config

APP = "octo-org/octo-app"


def card(branch: str | None = "feature/login", *, repo: str = APP,
         pr: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"repo": repo, "branch": branch, "pull_request": pr}


QUEUE = "gh-readonly-queue/main/pr-12-6dcb09b5b57875f334f61aebed695e2e4193db5e"
OPEN_PR = {"number": 12, "state": "open", "labels": ["needs-qa"]}
MAIN_ONLY = RouteRule(repos=("octo-org/*",), channel="C0APP", branches=("main",),
                      exclude_branches=("dependabot/*",))
EVERY = RouteRule(repos=(APP,), channel="C0ALL")


@pytest.mark.parametrize(("rule", "c", "takes"), [
    (EVERY, card(), True),
    (EVERY, card(repo="octo-org/other"), False),
    (RouteRule(repos=("OCTO-ORG/*",), channel="C"), card(), True),  # globs ignore case
    (MAIN_ONLY, card("main"), True),
    (MAIN_ONLY, card("Main"), True),
    (MAIN_ONLY, card("feature/login"), False),
    (RouteRule(repos=("*",), channel="C", exclude_branches=("dependabot/*",)),
     card("dependabot/pip/requests-2.32"), False),
    # Only checks so far, branch unknown: only a route taking every branch decides now.
    (EVERY, card(None), True),
    (MAIN_ONLY, card(None), False),
    (RouteRule(repos=("*",), channel="C", exclude_branches=("x",)), card(None), False),
    # A PR-head route takes an open PR's head commit whatever its branch, not a closed one.
    (RouteRule(repos=(APP,), channel="C", branches=("main",), pull_requests=True),
     card(pr=OPEN_PR), True),
    (RouteRule(repos=(APP,), channel="C", branches=("main",), pull_requests=True),
     card(pr={**OPEN_PR, "state": "closed"}), False),
    (RouteRule(repos=(APP,), channel="C", pull_requests=True, exclude_branches=("feature/*",)),
     card(pr=OPEN_PR), False),  # excluded branches stay excluded
    # Labels: only PRs with one of them.
    (RouteRule(repos=(APP,), channel="C", labels=("needs-qa", "x")), card(pr=OPEN_PR), True),
    (RouteRule(repos=(APP,), channel="C", labels=("x",)), card(pr=OPEN_PR), False),
    (RouteRule(repos=(APP,), channel="C", labels=("needs-qa",)), card(), False),
    # GitHub's merge-queue commits are no news of their own: only a route naming the queue's
    # branches takes them.
    (EVERY, card(QUEUE), False),
    (RouteRule(repos=(APP,), channel="C", branches=("gh-readonly-queue/*",)), card(QUEUE), True),
    (RouteRule(repos=(APP,), channel="C", branches=("gh-readonly-queue/*",)), card("main"),
     False),
])
def test_whether_a_route_takes_a_card(rule: RouteRule, c: dict[str, Any], takes: bool) -> None:
    assert route_takes(rule, c) is takes


SUBSCRIBED = RouteRule(repos=(APP,), channel="C0SUB")
OTHER_SUB = RouteRule(repos=(APP,), channel="C0SUB2")


@pytest.mark.parametrize(("c", "routes", "subscriptions", "default", "expected"), [
    (card("main"), [MAIN_ONLY, EVERY], [SUBSCRIBED], "C0DEF",
     Destination("C0APP", MAIN_ONLY, "config")),  # the first config route that takes it
    (card(), [MAIN_ONLY, EVERY], [SUBSCRIBED], "C0DEF", Destination("C0ALL", EVERY, "config")),
    (card(), [MAIN_ONLY], [SUBSCRIBED, OTHER_SUB], "C0DEF",
     Destination("C0SUB", SUBSCRIBED, "subscription")),
    (card(), [MAIN_ONLY], [], "C0DEF", Destination("C0DEF", None, "default")),
    (card(), [MAIN_ONLY], [], None, None),  # no route takes it: never posted
    (card(), [], [], "", None),
    (card(QUEUE), [EVERY], [SUBSCRIBED], "C0DEF", None),  # not even to the default channel
])
def test_where_a_card_goes(c: dict[str, Any], routes: list[RouteRule],
                           subscriptions: list[RouteRule], default: str | None,
                           expected: Destination | None) -> None:
    assert destination(c, routes, subscriptions, default) == expected


def test_subscriptions_are_read_only_when_no_config_route_takes_the_card() -> None:
    def unread() -> Any:
        raise AssertionError("subscriptions read")
        yield  # a generator, as the shell's reading of them is

    assert destination(card(), [EVERY], unread(), None) == Destination("C0ALL", EVERY, "config")


def test_the_chosen_rule_carries_its_nudge_limits_and_dm_setting() -> None:
    config = parse_config("routes:\n  - repos: ['*']\n    channel: '#slow'\n"
                          "    dm_author_on_failure: true\n"
                          "    schedule: {review_nudge_after_hours: 8, max_nudges: 1}\n"
                          "  - repos: ['*']\n    channel: '#other'\n")
    policies = config.policies()
    found = destination(card(), policies.routes, [], None)
    assert found is not None and found.route == config.routes[0].rule()
    assert found.route.dm_author_on_failure
    slow = config.schedule.for_route(found.route)
    assert slow == config.schedule.for_route(config.routes[0])
    assert (slow.review_nudge_after_hours, slow.max_nudges) == (8, 1)
    assert config.schedule.for_route(policies.routes[1]) == config.schedule
    assert config.schedule.for_route(None) == config.schedule
