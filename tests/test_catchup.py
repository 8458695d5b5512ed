"""Catch-up: a bot that was down misses nothing GitHub kept. GitHub (the fake) logs every
delivery it could not make; the bot's leader pages the log back to where it last was, asks
for what it never stored, and the redeliveries come in through the signed endpoint."""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from devexbot.scheduler import Scheduler
from tests.bot import BotFactory, SteppedClock, TestBot
from tests.commit_mix import commit_events
from tests.conftest import GITHUB_SECRET
from tests.fakes.github_api import FakeGitHub
from tests.fakes.github_hooks import Hook, Receivers
from tests.scenario import REPO
from tests.test_github_app_auth import private_key_pem
from tests.test_scheduler_service import Follower

BOT_URL = "https://devexbot.example.com/webhooks/github"
HOOK_ID = 447512369
SHAS = [hashlib.sha1(str(n).encode()).hexdigest() for n in range(3)]
CONFIG = f"""
github:
  hooks:
    - {{repo: {REPO}, id: {HOOK_ID}}}
"""
HOOK_KEY = f"repo:{REPO}:{HOOK_ID}"
LISTS = "GET /repos/*/hooks/*/deliveries"
ASKS = "POST /repos/*/hooks/*/deliveries/*/attempts"


@pytest.fixture
def receivers() -> Receivers:
    return Receivers()


@pytest.fixture
def github(clock: SteppedClock, receivers: Receivers) -> Iterator[FakeGitHub]:
    """The fake GitHub, logging deliveries on the test's clock, sending them to the bots
    attached to `receivers`."""
    with FakeGitHub() as fake:
        fake.add_repo(REPO)
        fake.state.hooks.clock = clock.time
        fake.state.hooks.transport = receivers
        yield fake


@pytest.fixture
def hook(github: FakeGitHub) -> Hook:
    return github.add_hook(BOT_URL, secret=GITHUB_SECRET, repo=REPO, hook_id=HOOK_ID)


def deliveries(count: int = 50) -> list[tuple[str, dict[str, Any]]]:
    """`count` deliveries of three commits (21 each), their news interleaved; more commits
    follow when 63 are not enough."""
    commits = max(3, -(-count // 21))
    per_commit = [commit_events(i, repo=REPO, sha=hashlib.sha1(str(i).encode()).hexdigest(),
                                checks=("build", "lint", "test"))
                  for i in range(commits)]
    mixed = [d for group in itertools.zip_longest(*per_commit) for d in group if d]
    return mixed[:count]


def start(make_bot: BotFactory, github: FakeGitHub, receivers: Receivers, **options: Any
          ) -> TestBot:
    """The bot, reading GitHub as `github`'s token (unless told otherwise), watching the
    repository's hook (unless configured otherwise), reachable at BOT_URL."""
    options.setdefault("github_token", github.token)
    options.setdefault("config", CONFIG)
    bot = make_bot(github_api_url=github.base_url, **options)
    receivers.attach(BOT_URL, bot.client)
    return bot


def card_json(bot: TestBot, sha: str) -> dict[str, Any]:
    answer = bot.client.get(f"/api/cards/{REPO}/{sha}")
    assert answer.status_code == 200, answer.text
    card: dict[str, Any] = answer.json()
    for volatile in ("slack", "slack_messages", "updated_at"):
        card.pop(volatile, None)
    return card


def card_posts(bot: TestBot) -> int:
    """Messages the bot posted to Slack that are not thread replies."""
    assert bot.slack is not None
    return sum(1 for call in bot.slack.calls("chat.postMessage")
               if not call.params.get("thread_ts"))


APP_ID, INSTALLATION_ID, ORG_HOOK_ID = 4242, 77, 7


def watched(kind: str, github: FakeGitHub) -> tuple[Hook, dict[str, Any], str]:
    """A repository's, an organisation's or the App's hook; the bot's settings to watch
    it; how catch-up names it."""
    if kind == "repo":
        return (github.add_hook(BOT_URL, secret=GITHUB_SECRET, repo=REPO, hook_id=HOOK_ID),
                {"config": CONFIG}, HOOK_KEY)
    if kind == "org":
        return (github.add_hook(BOT_URL, secret=GITHUB_SECRET, org="octo-org",
                                hook_id=ORG_HOOK_ID),
                {"config": f"github:\n  hooks: [{{org: octo-org, id: {ORG_HOOK_ID}}}]\n"},
                f"org:octo-org:{ORG_HOOK_ID}")
    private, public = private_key_pem()
    github.add_app(APP_ID, public, slug="devexbot")
    github.add_installation(INSTALLATION_ID, APP_ID, "octo-org")
    return (github.add_hook(BOT_URL, secret=GITHUB_SECRET, app_id=APP_ID),
            {"config": "", "github_token": None, "github_app_id": APP_ID,
             "github_app_private_key": private}, "app")


@pytest.mark.parametrize("kind", ["repo", "org", "app"])
def test_a_bot_that_was_down_ends_with_the_cards_of_one_that_never_stopped(
    make_bot: BotFactory, github: FakeGitHub, receivers: Receivers, tmp_path: Path,
    kind: str,
) -> None:
    hook, options, hook_key = watched(kind, github)
    sent = [github.send(hook, event, payload) for event, payload in deliveries(50)]
    assert {e.status_code for e in sent} == {502}  # nobody at the bot's address
    # A bot that never stopped gets the same deliveries directly.
    twin = make_bot(slack_on=False, database_url=f"sqlite:///{tmp_path / 'twin.db'}")
    for (event, payload), entry in zip(deliveries(50), sent, strict=True):
        assert twin.deliver(event, payload, delivery_id=entry.guid).status_code == 202

    bot = start(make_bot, github, receivers, **options)
    began = bot.clock.now()
    assert bot.run_job("catch-up").endswith(": 50 redelivery(ies) asked")
    assert bot.clock.now() - began == timedelta(seconds=49)  # asks a second apart
    redelivered = github.send_queued()
    assert len(redelivered) == 50 and {e.status_code for e in redelivered} == {202}
    assert {e.guid for e in redelivered} == {e.guid for e in sent}
    assert all(e.redelivery for e in redelivered)
    bot.settle()

    for sha in SHAS:
        assert card_json(bot, sha) == card_json(twin, sha)
    assert card_posts(bot) == len(SHAS)  # one message per card, none twice
    assert len({bot.message(sha).ts for sha in SHAS}) == len(SHAS)

    # The next cycle finds nothing owed and asks for nothing.
    asks = len(github.calls("POST", "*/attempts"))
    bot.clock.advance(300)
    assert bot.run_job("catch-up").endswith(": 0 redelivery(ies) asked")
    assert len(github.calls("POST", "*/attempts")) == asks and github.send_queued() == []

    # What came back by catch-up says so, on the card's timeline and in /metrics.
    with bot.web() as web:
        page = web.get(f"/cards/{REPO}/{SHAS[0]}")
    assert page.status_code == 200 and "(caught up)" in page.text
    with twin.web() as web:  # the same events, delivered on time: no mark
        page = web.get(f"/cards/{REPO}/{SHAS[0]}")
    assert page.status_code == 200 and "(caught up)" not in page.text
    metrics = bot.client.get("/metrics").text
    assert f'devexbot_catchup_recovered{{hook="{hook_key}"}} 50.0' in metrics
    assert f'devexbot_catchup_last_run_timestamp_seconds{{hook="{hook_key}"}}' in metrics


def test_paging_stops_at_the_stored_position_and_a_restart_continues_from_it(
    make_bot: BotFactory, github: FakeGitHub, hook: Hook, receivers: Receivers,
) -> None:
    bot = start(make_bot, github, receivers)
    many = deliveries(120)
    for event, payload in many:  # the bot is up: all delivered
        assert github.send(hook, event, payload).status_code == 202
    assert bot.run_job("catch-up").endswith(": 0 redelivery(ies) asked")
    assert len(github.calls(*LISTS.split())) == 2  # 100 + 20: the whole log, once

    receivers.detach(BOT_URL)  # down
    missed = [github.send(hook, event, payload) for event, payload in many[:30]]
    assert {e.status_code for e in missed} == {502}
    bot.close()

    restarted = start(make_bot, github, receivers)
    listed = len(github.calls(*LISTS.split()))
    assert restarted.run_job("catch-up").endswith(": 30 redelivery(ies) asked")
    pages = github.calls(*LISTS.split())[listed:]
    assert len(pages) == 1  # the 30 missed and 70 it had seen: no further back
    asked = {c.path.split("/")[-2] for c in github.calls(*ASKS.split())}
    assert asked == {str(e.id) for e in missed}


def test_rate_limits_are_honoured_on_the_clock(
    make_bot: BotFactory, github: FakeGitHub, hook: Hook, receivers: Receivers,
    clock: SteppedClock,
) -> None:
    missed = [github.send(hook, event, payload) for event, payload in deliveries(10)]
    bot = start(make_bot, github, receivers)
    github.rate_limit_next(LISTS, retry_after=120)  # secondary: Retry-After
    assert bot.run_job("catch-up").endswith(
        f": 0 redelivery(ies) asked, then rate-limited until "
        f"{(clock.now() + timedelta(seconds=120)).isoformat()}")
    calls = len(github.calls())

    clock.advance(119)
    assert "waiting for GitHub until" in bot.run_job("catch-up")
    assert len(github.calls()) == calls  # not one call before the time GitHub gave

    clock.advance(2)
    # The primary limit runs out at the fifth ask (asks go newest first).
    fifth = f"POST /repos/{REPO}/hooks/{HOOK_ID}/deliveries/{missed[-5].id}/attempts"
    github.rate_limit_next(fifth, retry_after=600, primary=True)
    assert ": 4 redelivery(ies) asked, then rate-limited until" in bot.run_job("catch-up")
    assert len(github.calls(*ASKS.split())) == 5
    calls = len(github.calls())

    clock.advance(300)  # X-RateLimit-Reset is 600 s of the wall clock after the 403
    assert "waiting for GitHub until" in bot.run_job("catch-up")
    assert len(github.calls()) == calls

    clock.advance(200)  # past it (the clock is 121 s ahead of the wall clock)
    assert bot.run_job("catch-up").endswith(": 6 redelivery(ies) asked")  # the rest only
    asked = [c.path.split("/")[-2] for c in github.calls(*ASKS.split())
             if c.status == 202]
    assert sorted(asked) == sorted(str(e.id) for e in missed)
    assert len(github.send_queued()) == 10


def test_only_the_leader_catches_up(
    make_bot: BotFactory, github: FakeGitHub, hook: Hook, receivers: Receivers,
) -> None:
    for event, payload in deliveries(5):
        github.send(hook, event, payload)
    bot = start(make_bot, github, receivers)
    follower = Scheduler(bot.services.db, list(bot.scheduler.specs.values()),
                         leadership=Follower(), clock=bot.clock.now)
    follower.run("catch-up")
    assert github.calls(*LISTS.split()) == [] and github.calls(*ASKS.split()) == []
    assert bot.run_job("catch-up").endswith(": 5 redelivery(ies) asked")  # the leader


def test_a_refused_call_is_tried_again_next_cycle_from_the_same_position(
    make_bot: BotFactory, github: FakeGitHub, hook: Hook, receivers: Receivers,
) -> None:
    missed = [github.send(hook, event, payload) for event, payload in deliveries(3)]
    bot = start(make_bot, github, receivers)
    github.fail_next(ASKS, status=500)
    assert bot.run_job("catch-up").endswith(
        ": 0 redelivery(ies) asked, then GitHub answered 500: Server Error")
    assert bot.run_job("catch-up").endswith(": 3 redelivery(ies) asked")  # no pause
    assert {e.guid for e in github.send_queued()} == {e.guid for e in missed}


def test_the_bots_own_hooks_are_found_in_the_repositories_it_has_news_of(
    make_bot: BotFactory, github: FakeGitHub, receivers: Receivers,
) -> None:
    ours = github.add_hook(BOT_URL, secret=GITHUB_SECRET, repo=REPO, hook_id=11)
    github.add_hook("https://ci.example.com/hook", secret="other", repo=REPO, hook_id=12)
    bot = start(make_bot, github, receivers, config="github: {discover_hooks: true}\n",
                devexbot_public_url="https://devexbot.example.com")
    first, *rest = deliveries(8)
    assert github.send(ours, *first).status_code == 202  # the bot has news of REPO
    receivers.detach(BOT_URL)
    missed = [github.send(ours, event, payload) for event, payload in rest]
    receivers.attach(BOT_URL, bot.client)

    assert bot.run_job("catch-up") == f"{REPO} hook 11: 7 redelivery(ies) asked"
    assert {e.guid for e in github.send_queued()} == {e.guid for e in missed}
    assert github.calls("GET", f"/repos/{REPO}/hooks/12/deliveries") == []


def test_a_redelivery_github_accepted_but_never_made_is_asked_for_again(
    make_bot: BotFactory, github: FakeGitHub, hook: Hook, receivers: Receivers,
    clock: SteppedClock,
) -> None:
    missed = [github.send(hook, event, payload) for event, payload in deliveries(3)]
    bot = start(make_bot, github, receivers)
    assert bot.run_job("catch-up").endswith(": 3 redelivery(ies) asked")
    github.state.hooks.queued.clear()  # GitHub loses them: nothing is ever logged

    clock.advance(5 * 60)
    assert bot.run_job("catch-up").endswith(": 0 redelivery(ies) asked")  # give it time
    clock.advance(11 * 60)  # past patience_minutes (15)
    assert bot.run_job("catch-up").endswith(": 3 redelivery(ies) asked")
    assert {e.guid for e in github.send_queued()} == {e.guid for e in missed}
    clock.advance(30 * 60)
    assert bot.run_job("catch-up").endswith(": 0 redelivery(ies) asked")  # they came
