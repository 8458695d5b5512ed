"""Which logged deliveries catch-up asks GitHub to redeliver, where it stops paging, and how
long a rate limit makes it wait (pure, as tables); which hooks it watches."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from correlation.catchup import (
    Ask,
    CatchUpPolicy,
    LoggedDelivery,
    next_link,
    our_hooks,
    overdue_asks,
    pause_until,
    plan_page,
    read_logged_delivery,
)
from devexbot.catchup import watched_hooks
from devexbot.config import parse_config
from devexbot.errors import ConfigError

NOW = datetime(2026, 12, 7, 12, tzinfo=UTC)


def logged(ident: int, guid: str, *, code: int = 502, ago: float = 60,
           redelivery: bool = False) -> LoggedDelivery:
    return LoggedDelivery(ident, guid, NOW - timedelta(seconds=ago), code, redelivery)


def asked(guid: str, *, ago: float = 60, attempts: int = 1) -> Ask:
    return Ask(guid, NOW - timedelta(seconds=ago), attempts)


PAGE = [logged(9, "g9"), logged(8, "g8", code=202), logged(7, "g7"), logged(6, "g6")]


@pytest.mark.parametrize(("page", "position", "stored", "asks", "chosen", "expected", "end"), [
    # A bot that was down: every failed delivery since the position is owed, newest first.
    (PAGE, None, set(), {}, set(), [9, 8, 7, 6], False),
    # Paging stops at the position: older entries were seen by the last cycle.
    (PAGE, 7, set(), {}, set(), [9, 8], True),
    # What the bot has is never asked for, whatever GitHub logged (stored, then timed out).
    (PAGE, None, {"g9", "g8", "g7"}, {}, set(), [6], False),
    # One ask per GUID: a failed redelivery and its failed original are one delivery.
    ([logged(9, "g1", redelivery=True, ago=30), logged(3, "g1", ago=600)], None, set(),
     {}, set(), [9], False),
    # A GUID a newer page chose this cycle is not chosen again.
    ([logged(3, "g1")], None, set(), {}, {"g1"}, [], False),
    # Asked a minute ago, no news: the redelivery is on its way.
    ([logged(3, "g1", ago=600)], None, set(), {"g1": asked("g1")}, set(), [], False),
    # Asked, and GitHub logged that redelivery as failed since: ask again at once.
    ([logged(4, "g1", ago=10, redelivery=True), logged(3, "g1", ago=600)], None, set(),
     {"g1": asked("g1", ago=60)}, set(), [4], False),
    # A failed redelivery from before the ask says nothing of the ask.
    ([logged(4, "g1", ago=90, redelivery=True)], None, set(),
     {"g1": asked("g1", ago=60)}, set(), [], False),
    # Asked long ago with no news: ask again; but not past the attempts allowed.
    ([logged(3, "g1", ago=7200)], None, set(), {"g1": asked("g1", ago=3600)}, set(),
     [3], False),
    ([logged(3, "g1", ago=7200)], None, set(), {"g1": asked("g1", ago=3600, attempts=3)},
     set(), [], False),
    # Older than the lookback (GitHub's redelivery window): paging stops there.
    ([logged(5, "new", ago=60), logged(4, "old", ago=4 * 86400)], None, set(), {}, set(),
     [5], True),
    ([], 3, set(), {}, set(), [], False),
])
def test_owed_deliveries(page: list[LoggedDelivery], position: int | None, stored: set[str],
                         asks: dict[str, Ask], chosen: set[str], expected: list[int],
                         end: bool) -> None:
    plan = plan_page(page, position=position, now=NOW, stored=stored, asked=asks,
                     policy=CatchUpPolicy(), chosen=chosen)
    assert [d.id for d in plan.redeliver] == expected
    assert plan.reached_end is end
    assert plan.newest == (max(d.id for d in page) if page else None)


@pytest.mark.parametrize(("ask", "handled", "expected"), [
    (asked("g", ago=60), set(), False),  # still on its way
    (asked("g", ago=16 * 60), set(), True),  # past patience, never came: again
    (asked("g", ago=16 * 60), {"g"}, False),  # asked again this cycle already
    (asked("g", ago=16 * 60, attempts=3), set(), False),  # enough attempts
    (asked("g", ago=4 * 86400), set(), False),  # older than GitHub redelivers
])
def test_asks_that_never_came_are_asked_again(ask: Ask, handled: set[str],
                                              expected: bool) -> None:
    assert (overdue_asks([ask], now=NOW, handled=handled) == (ask,)) is expected


def test_overdue_asks_go_oldest_first() -> None:
    older, newer = asked("a", ago=3600), asked("b", ago=1800)
    assert overdue_asks([newer, older], now=NOW, handled=set()) == (older, newer)


RESET = int((NOW + timedelta(minutes=7)).timestamp())


@pytest.mark.parametrize(("status", "headers", "expected"), [
    (200, {"Retry-After": "30"}, None),
    (403, {"Retry-After": "30"}, NOW + timedelta(seconds=30)),
    (429, {"retry-after": "120"}, NOW + timedelta(seconds=120)),
    (429, {"Retry-After": "Mon, 07 Dec 2026 12:05:00 GMT"}, NOW + timedelta(minutes=5)),
    (403, {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(RESET)},
     NOW + timedelta(minutes=7)),
    # A reset already past: call again now.
    (403, {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "1000"}, NOW),
    # Limit not spent: a 403 is a permission problem, not a pause.
    (403, {"X-RateLimit-Remaining": "12", "X-RateLimit-Reset": str(RESET)}, None),
    (403, {}, None),
    (429, {}, NOW + timedelta(seconds=60)),
    (429, {"Retry-After": "soon"}, NOW + timedelta(seconds=60)),
])
def test_rate_limit_pauses(status: int, headers: dict[str, str],
                           expected: datetime | None) -> None:
    assert pause_until(status, headers, NOW) == expected


@pytest.mark.parametrize(("link", "expected"), [
    (None, None),
    ("", None),
    ('<https://api.github.com/app/hook/deliveries?cursor=v1_41&per_page=2>; rel="next"',
     "https://api.github.com/app/hook/deliveries?cursor=v1_41&per_page=2"),
    ('<https://x/prev>; rel="prev", <https://x/next?cursor=v1_3>; rel="next"',
     "https://x/next?cursor=v1_3"),
    ('<https://x/first>; rel="first"', None),
])
def test_next_link(link: str | None, expected: str | None) -> None:
    assert next_link(link) == expected


def test_a_listed_delivery_is_read_as_github_lists_it() -> None:
    # The shape of docs.github.com's example for GET /repos/{o}/{r}/hooks/{id}/deliveries.
    raw = {"id": 12345678, "guid": "0b989ba4-242f-11e5-81e1-c7b6966d2516",
           "delivered_at": "2019-06-03T00:57:16Z", "redelivery": False, "duration": 0.27,
           "status": "failed to connect", "status_code": 502, "event": "issues",
           "action": "opened", "installation_id": 123, "repository_id": 456}
    found = read_logged_delivery(raw)
    assert found == LoggedDelivery(12345678, "0b989ba4-242f-11e5-81e1-c7b6966d2516",
                                   datetime(2019, 6, 3, 0, 57, 16, tzinfo=UTC), 502, False,
                                   "issues")
    assert found is not None and not found.succeeded
    for bad in (None, [], {"id": "1", "guid": "g", "delivered_at": "2019-06-03T00:57:16Z"},
                {"id": 1, "guid": "", "delivered_at": "2019-06-03T00:57:16Z"},
                {"id": 1, "guid": "g", "delivered_at": "yesterday"}):
        assert read_logged_delivery(bad) is None


def test_the_hooks_to_watch_are_read_from_the_config() -> None:
    config = parse_config("github:\n  hooks:\n    - {repo: octo-org/octo-app, id: 447512369}\n"
                          "    - {org: octo-org, id: 7}\n  catch_up: {every_minutes: 2}\n")
    assert [h.key for h in watched_hooks(config.github, app=False)] == [
        "repo:octo-org/octo-app:447512369", "org:octo-org:7"]
    assert [h.key for h in watched_hooks(config.github, app=True)][-1] == "app"
    assert watched_hooks(parse_config("github: {app_hook: false}").github, app=True) == []
    assert config.github.catch_up.policy() == CatchUpPolicy()
    for bad, words in (("[{repo: octo-org/octo-app, org: octo-org, id: 1}]", "not both"),
                       ("[{org: octo-org}]", "id: Field required"),
                       ("[{repo: nope, id: 3}]", "repo: String should match")):
        with pytest.raises(ConfigError) as caught:
            parse_config(f"github:\n  hooks: {bad}\n", source="devexbot.yaml")
        assert str(caught.value).startswith("devexbot.yaml:2: github.hooks") \
            and words in str(caught.value), str(caught.value)


BOT = "https://devexbot.example.com/webhooks/github"


@pytest.mark.parametrize(("listing", "expected"), [
    # The shape of GET /repos/{owner}/{repo}/hooks.
    ([{"id": 1, "active": True, "events": ["push"], "config": {"url": BOT,
       "content_type": "json", "insecure_ssl": "0"}},
      {"id": 2, "active": True, "config": {"url": "https://ci.example.com/github"}},
      {"id": 3, "active": False, "config": {"url": BOT}}], (1,)),
    ([{"id": 9, "config": {"url": "HTTPS://DevexBot.example.com/webhooks/github/"}},
      {"id": 4, "config": {"url": BOT}}], (4, 9)),
    # A path's case matters; so does the path itself.
    ([{"id": 5, "config": {"url": BOT.upper()}},
      {"id": 6, "config": {"url": "https://devexbot.example.com/webhooks/jenkins"}}], ()),
    ([{"id": "7", "config": {"url": BOT}}, {"id": 8}, {"id": 9, "config": {"url": None}}, "x"],
     ()),
    ({"message": "Not Found"}, ()),
])
def test_the_bots_own_hooks_are_found_by_their_url(listing: object,
                                                   expected: tuple[int, ...]) -> None:
    assert our_hooks(listing, BOT) == expected
