"""Which channels a card goes to, decided from its JSON and the routes as a table: the first
config route that takes it, every subscription that takes it, else the default channel;
what `/devex subscribe` takes and how it says so; and the route's own nudge limits, read
off the rule the decision chose."""

from __future__ import annotations

from typing import Any

import pytest

from correlation.routing import (
    Destination,
    RouteRule,
    SubscriptionScope,
    describe_rules,
    destination,
    destinations,
    route_takes,
)
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
MAIN_SUB = RouteRule(repos=(APP,), channel="C0SUB2", branches=("main",))


@pytest.mark.parametrize(("c", "routes", "subscriptions", "default", "expected"), [
    # The first config route that takes it, and every subscription that takes it.
    (card("main"), [MAIN_ONLY, EVERY], [SUBSCRIBED], "C0DEF",
     (Destination("C0APP", MAIN_ONLY, "config"),
      Destination("C0SUB", SUBSCRIBED, "subscription"))),
    (card(), [MAIN_ONLY, EVERY], [SUBSCRIBED, MAIN_SUB], "C0DEF",
     (Destination("C0ALL", EVERY, "config"), Destination("C0SUB", SUBSCRIBED, "subscription"))),
    (card(), [MAIN_ONLY], [SUBSCRIBED, OTHER_SUB], "C0DEF",
     (Destination("C0SUB", SUBSCRIBED, "subscription"),
      Destination("C0SUB2", OTHER_SUB, "subscription"))),
    # A channel the config route already posts to gets one message, not two.
    (card(), [EVERY], [RouteRule(repos=(APP,), channel="C0ALL"), SUBSCRIBED], None,
     (Destination("C0ALL", EVERY, "config"), Destination("C0SUB", SUBSCRIBED, "subscription"))),
    (card(), [MAIN_ONLY], [], "C0DEF", (Destination("C0DEF", None, "default"),)),
    (card(), [MAIN_ONLY], [], None, ()),  # no route takes it: never posted
    (card(), [], [], "", ()),
    (card(QUEUE), [EVERY], [SUBSCRIBED], "C0DEF", ()),  # not even to the default channel
])
def test_where_a_card_goes(c: dict[str, Any], routes: list[RouteRule],
                           subscriptions: list[RouteRule], default: str | None,
                           expected: tuple[Destination, ...]) -> None:
    assert destinations(c, routes, subscriptions, default) == expected
    assert destination(c, routes, subscriptions, default) == (expected[0] if expected else None)


README_EXAMPLE = ("main", "release/*", "+label:deploy")  # /devex subscribe octo/svc main ...
DEPLOY = {"number": 7, "state": "open", "labels": ["Deploy"]}  # labels match case aside
UNLABELLED = {"number": 8, "state": "open", "labels": []}


@pytest.mark.parametrize(("words", "says", "taken", "not_taken"), [
    ((), "every commit", [card("main"), card("feature/x", pr=UNLABELLED), card(None)],
     [card(QUEUE)]),
    (README_EXAMPLE, "commits on main or release/*, and PRs labelled deploy",
     [card("main"), card("feature/x", pr=DEPLOY), card("release/1", pr=UNLABELLED),
      card("release/1")],
     [card("feature/x"), card("feature/x", pr=UNLABELLED), card(None)]),
    (("+label:deploy",), "PRs labelled deploy",
     [card("feature/x", pr=DEPLOY), card("main", pr=DEPLOY)],
     [card("main"), card("feature/x", pr=UNLABELLED)]),
    (("main", "hotfix/*"), "commits on main or hotfix/*",
     [card("main"), card("hotfix/db")], [card("feature/x", pr=DEPLOY), card(None)]),
    (("+label:deploy", "+label:qa", "main"), "commits on main, and PRs labelled deploy or qa",
     [card("main"), card("x", pr={**UNLABELLED, "labels": ["qa"]})], [card("x")]),
])
def test_a_subscription_takes_what_its_confirmation_says(
        words: tuple[str, ...], says: str, taken: list[dict[str, Any]],
        not_taken: list[dict[str, Any]]) -> None:
    scope = SubscriptionScope.parse(APP, words)
    assert scope.describe() == says
    rules = scope.rules("C0TEAM")
    for c in taken:
        assert [d.channel for d in destinations(c, [], rules, None)] == ["C0TEAM"], c
    for c in not_taken:
        assert destinations(c, [], rules, None) == (), c


@pytest.mark.parametrize("word", ["+labels:deploy", "+label:", "+deploy"])
def test_a_subscription_word_it_cannot_read_is_refused(word: str) -> None:
    with pytest.raises(ValueError, match=word.replace("+", r"\+")):
        SubscriptionScope.parse(APP, ["main", word])


@pytest.mark.parametrize(("rule", "says"), [
    (EVERY, "every commit"),
    (MAIN_ONLY, "commits on main (never dependabot/*)"),
    (RouteRule(repos=(APP,), channel="C", branches=("main",), pull_requests=True),
     "commits on main and open PRs"),
    (RouteRule(repos=(APP,), channel="C", branches=("main",), labels=("deploy",)),
     "PRs labelled deploy on main"),
])
def test_a_config_route_in_words(rule: RouteRule, says: str) -> None:
    assert describe_rules([rule]) == says


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


# --- whose cards: `exclude_authors` and `only_authors` -----------------------------------

def by(login: str | None, *, pr_author: str | None = None) -> dict[str, Any]:
    pr = {**OPEN_PR, "author": pr_author} if pr_author else None
    return {**card(pr=pr), "author": {"login": login, "name": None} if login else None}


NO_BOTS = RouteRule(repos=(APP,), channel="C", exclude_authors=("dependabot[bot]", "*-bot"))
ANA_ONLY = RouteRule(repos=(APP,), channel="C", only_authors=("ana", "bo?"))


@pytest.mark.parametrize(("rule", "c", "takes"), [
    # `[` and `]` are literal, as people write GitHub's bot names: a glob would read
    # `dependabot[bot]` as "dependabot" and one of b, o, t.
    (NO_BOTS, by("dependabot[bot]"), False),
    (NO_BOTS, by("Dependabot[bot]"), False),  # logins match case aside
    (NO_BOTS, by("dependabotb"), True),
    (NO_BOTS, by("release-bot"), False),  # `*` is a wildcard
    (NO_BOTS, by("ana"), True),
    # The PR's author is the card's author: a human's commit on a bot's PR is the bot's.
    (NO_BOTS, by("ana", pr_author="dependabot[bot]"), False),
    (NO_BOTS, by("dependabot[bot]", pr_author="ana"), True),
    (RouteRule(repos=(APP,), channel="C", exclude_authors=("*[bot]",)),
     by("renovate[bot]"), False),
    (ANA_ONLY, by("ana"), True),
    (ANA_ONLY, by("bob"), True),  # `?` is one character
    (ANA_ONLY, by("bobby"), False),
    (ANA_ONLY, by("ana", pr_author="eve"), False),
    # Author not known yet (only checks so far): a route that filters by author waits.
    (NO_BOTS, by(None), False),
    (ANA_ONLY, by(None), False),
    (EVERY, by(None), True),
])
def test_whether_a_route_takes_a_card_by_its_author(rule: RouteRule, c: dict[str, Any],
                                                    takes: bool) -> None:
    assert route_takes(rule, c) is takes


@pytest.mark.parametrize(("words", "says", "taken", "not_taken"), [
    (("exclude-authors:dependabot[bot],renovate[bot]",),
     "every commit, not by dependabot[bot] or renovate[bot]",
     [by("ana")], [by("dependabot[bot]"), by("renovate[bot]"), by(None)]),
    # A leading `+` is optional on every option, and options may repeat.
    (("main", "+only-authors:ana", "only-authors:bo*"), "commits on main by ana or bo*",
     [{**by("ana"), "branch": "main"}, {**by("bob"), "branch": "main"}],
     [by("ana"), {**by("eve"), "branch": "main"}]),
    (("main", "+label:deploy", "exclude-authors:*[bot]"),
     "commits on main, and PRs labelled deploy, not by *[bot]",
     [{**by("ana"), "branch": "main"}],
     [{**by("dependabot[bot]"), "branch": "main"}]),
    (("per:pull_request",), "every commit; one message per pull request", [by("ana")], []),
    (("label:deploy", "per:pr", "exclude-authors:x"),
     "PRs labelled deploy, not by x; one message per pull request", [], [by("ana")]),
])
def test_a_subscription_by_author_takes_what_its_confirmation_says(
        words: tuple[str, ...], says: str, taken: list[dict[str, Any]],
        not_taken: list[dict[str, Any]]) -> None:
    test_a_subscription_takes_what_its_confirmation_says(words, says, taken, not_taken)


def test_a_subscription_says_per_pull_request_to_its_routes() -> None:
    scope = SubscriptionScope.parse(APP, ["main", "+label:deploy", "per:pull_request"])
    assert {rule.per for rule in scope.rules("C")} == {"pull_request"}
    assert SubscriptionScope.parse(APP, []).rules("C")[0].per == "commit"


@pytest.mark.parametrize("word", ["exclude-authors:", "only-authors:,", "per:branch",
                                  "per:commit,pull_request", "authors:ana", "+per"])
def test_an_option_it_cannot_read_is_refused(word: str) -> None:
    with pytest.raises(ValueError, match=word.replace("+", r"\+")):
        SubscriptionScope.parse(APP, ["main", word])


def test_a_config_route_filters_by_author_and_says_so() -> None:
    config = parse_config("routes:\n  - repos: ['*']\n    channel: '#prs'\n"
                          "    exclude_authors: ['dependabot[bot]']\n"
                          "    only_authors: ['ana', 'dependabot[bot]']\n"
                          "    per: pull_request\n")
    rule = config.routes[0].rule()
    assert rule.per == "pull_request"
    assert not route_takes(rule, by("dependabot[bot]")) and route_takes(rule, by("ana"))
    assert describe_rules([rule]) == ("every commit by ana or dependabot[bot], not by "
                                      "dependabot[bot]; one message per pull request")
