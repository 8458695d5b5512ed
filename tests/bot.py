"""The test bot: the real settings, services and app, with no thread working behind the
test's back and a clock only the test moves.

    def test_a_card_is_posted(bot: TestBot) -> None:
        bot.deliver("check_run", load_fixture("check_run.completed"))
        bot.settle()
        assert bot.message().text.startswith("✅")

`deliver()` signs as GitHub does (`bot.jenkins`, `bot.deploy`, `bot.flux` and
`bot.slack_sender` send as Jenkins, a deploy tool, Flux and Slack do), `flush()` does the
card lookups', the outbox's and the ticket updates' work that is due now,
`clock.advance()` makes more of it due, `settle()` steps the clock from one due moment to the
next until Slack shows every card, and `run_job()` runs a scheduled job at the clock's time.
Slack, GitHub, Jenkins and Jira are the local fakes.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, ExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from devexbot.actions.custom import RunbookLauncher
from devexbot.app import create_app
from devexbot.publish.outbox import OutboxPolicy
from devexbot.scheduler import Scheduler
from devexbot.scheduler.leader import SoleLeader
from devexbot.scheduler.service import last_results
from devexbot.store import Card, TicketDeploy, TicketUpdate
from devexbot.store.cards import get_card
from devexbot.tickets.policy import TicketPolicy
from devexbot.tracing import Tracer
from devexbot.wiring import Services, build_services
from tests.conftest import DEPLOY_SECRET, GITHUB_SECRET, JENKINS_TOKEN, make_settings
from tests.db_template import migrate
from tests.deploy_sender import DeploySender
from tests.fakes.slack_api import DEFAULT_TOKEN, FakeSlack
from tests.fakes.slack_models import Message
from tests.flux_sender import FluxSender
from tests.github_sender import GitHubSender
from tests.jenkins_sender import JenkinsSender
from tests.scenario import HEAD, REPO
from tests.slack_signing import SlackSender
from tests.web_client import LOCAL, local_client, web_client

SIGNING_SECRET = "test-signing-secret"
DEFAULT_CHANNEL = "C0DEPLOYS"
_SMALLEST_STEP = timedelta(milliseconds=50)


class SteppedClock:
    """Time that moves only when the test moves it; a `devexbot.clock.Clock`. It starts
    at the wall clock's time, so what the bot stamps with the wall clock directly (a
    delivery's arrival, an event of a click) reads as "just now"."""

    def __init__(self, start: datetime | None = None) -> None:
        self._start = start or datetime.now(UTC).replace(microsecond=0)
        self._elapsed = timedelta(0)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._start + self._elapsed

    def time(self) -> float:
        """Epoch seconds, as `time.time()` (the fake Slack stamps `ts` with it)."""
        return self.now().timestamp()

    def monotonic(self) -> float:
        with self._lock:
            return 1000.0 + self._elapsed.total_seconds()

    def advance(self, by: timedelta | float) -> None:
        step = by if isinstance(by, timedelta) else timedelta(seconds=by)
        assert step >= timedelta(0), "time does not go back"
        with self._lock:
            self._elapsed += step

    def sleep(self, seconds: float) -> None:
        """A part that waits (the nudges waiting out Slack's pace) moves the clock."""
        self.advance(max(seconds, 0.0))


class TestBot:
    """The bot on a `SteppedClock`; build it with the `make_bot` fixture."""

    __test__ = False  # not a test class, whatever its name

    def __init__(self, services: Services, clock: SteppedClock, slack: FakeSlack | None
                 ) -> None:
        self.services, self.clock, self.slack = services, clock, slack
        self._stack = ExitStack()
        self.client = self._stack.enter_context(
            local_client(create_app(services=services, background=False)))
        self.github = GitHubSender(self.client, GITHUB_SECRET)
        self.jenkins = JenkinsSender(self.client, JENKINS_TOKEN)
        self.deploy = DeploySender(self.client, DEPLOY_SECRET)
        self.flux = FluxSender(self.client, DEPLOY_SECRET)
        self.slack_sender = SlackSender(self.client, SIGNING_SECRET, clock=clock.time)
        self.scheduler: Scheduler = services.scheduler

    # --- what the senders do --------------------------------------------------------------

    def deliver(self, event: str, payload: dict[str, Any] | bytes, *,
                delivery_id: str | None = None) -> Any:
        """A GitHub delivery, signed as GitHub signs it; the HTTP response."""
        return self.github.deliver(event, payload, delivery_id=delivery_id)

    def web(self, *, client: tuple[str, int] = LOCAL, **kwargs: Any
            ) -> AbstractContextManager[TestClient]:
        """A browser's client of this bot's web workspace (from `client`)."""
        return web_client(self.services, client=client, background=False, **kwargs)

    # --- the work the background threads would do ---------------------------------------

    def flush(self) -> int:
        """The card lookups, the outbox's flush and the ticket updates' pass, until none
        finds anything due at the clock's time; how many cards the outbox flushed and
        updates were tried."""
        return flush(self.services)

    def settle(self, *, within: timedelta = timedelta(hours=2)) -> None:
        """Flush, and step the clock to the next moment something is due, until every card
        shows in Slack as it stands and no ticket update is pending."""
        settle(self.services, within=within)

    def next_due(self) -> datetime | None:
        """When the outbox, the ticket updates or the Home tabs next have work (None:
        nothing pending)."""
        return next_due(self.services)

    def run_job(self, job_id: str) -> str:
        """Run a scheduled job now (at the clock's time), as the leader; what it did."""
        self.scheduler.run(job_id)
        result = last_results(self.services.db)[job_id]
        assert result.result == "ok", result.detail
        return result.detail

    # --- what Slack shows -----------------------------------------------------------------

    def card(self, sha: str = HEAD, repo: str = REPO) -> Card:
        with self.services.db.read() as session:
            card = get_card(session, repo, sha)
            assert card is not None, f"no card for {repo}@{sha[:7]}"
            return card

    def message(self, sha: str = HEAD, repo: str = REPO) -> Message:
        """The card's Slack message as it stands now."""
        card = self.card(sha, repo)
        assert self.slack is not None and card.slack_channel and card.slack_ts, \
            f"{repo}@{sha[:7]} is not in Slack"
        return self.slack.final_message(card.slack_channel, card.slack_ts)

    def thread(self, sha: str = HEAD, repo: str = REPO) -> list[Message]:
        """The replies under the card's message, oldest first."""
        card = self.card(sha, repo)
        assert self.slack is not None and card.slack_channel and card.slack_ts
        return self.slack.thread(card.slack_channel, card.slack_ts)[1:]

    def close(self) -> None:
        self._stack.close()
        self.services.db.dispose()


def flush_together(*bots: TestBot) -> None:
    """Each bot's flush at the same moment, in threads started together: flushers of
    several replicas racing for the same cards."""
    begin = threading.Barrier(len(bots))

    def flush(bot: TestBot) -> None:
        begin.wait()
        bot.flush()

    threads = [threading.Thread(target=flush, args=(bot,)) for bot in bots]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def stepped(services: Services) -> SteppedClock:
    """The clock a test bot's services go by."""
    clock = services.clock
    assert isinstance(clock, SteppedClock), "not a test bot's services"
    return clock


def flush(services: Services) -> int:
    """The card lookups, the outbox's flush, the ticket updates' pass and the Home tabs'
    refresh, until none finds anything due at the clock's time; how many cards the outbox
    flushed, updates were tried and tabs published (the lookups, which every news makes
    due, are not counted)."""
    worked = 0
    while True:
        # As its thread would, woken by the same news.
        looked = services.lookups.lookups.run_due() if services.lookups is not None else 0
        done = 0
        if services.outbox is not None:
            done += services.outbox.flush()
        if services.ticket_worker is not None:
            done += services.ticket_worker.run_due()
        if services.me is not None and services.me.worker is not None:
            done += services.me.worker.run_once()
        if not done and not looked:
            return worked
        worked += done


def settle(services: Services, *, within: timedelta = timedelta(hours=2)) -> None:
    """Flush, and step the clock to the next moment something is due, until every card
    shows in Slack as it stands and no ticket update or Home tab is pending; fails if that
    takes longer than `within` on the clock."""
    clock = stepped(services)
    deadline = clock.now() + within
    while True:
        worked = flush(services)
        due = next_due(services)
        if due is None:
            return
        now = clock.now()
        if due > deadline:
            raise AssertionError(f"not settled within {within}: next due at {due}, "
                                 f"{pending(services)}")
        if due > now:
            clock.advance(due - now)
        elif not worked:
            clock.advance(_SMALLEST_STEP)  # due, yet not taken: a claim's moment


def next_due(services: Services) -> datetime | None:
    """When the outbox, the ticket updates or the Home tabs next have work (None: nothing
    pending)."""
    moments: list[datetime] = []
    with services.db.read() as session:
        if services.outbox is not None:
            policy = services.outbox.claims.policy
            for changed, since, retry_at, claimed in session.execute(
                    select(Card.changed_at, Card.dirty_since, Card.next_flush_at,
                           Card.claimed_until).where(Card.dirty.is_(True))):
                due = min(changed + timedelta(seconds=policy.quiet),
                          (since or changed) + timedelta(seconds=policy.max_delay))
                moments.append(max([due, *(t for t in (retry_at, claimed) if t)]))
        if services.ticket_worker is not None:
            for table in (TicketDeploy, TicketUpdate):
                for attempt_at, claimed in session.execute(
                        select(table.next_attempt_at, table.claimed_until)
                        .where(table.state == "pending")):
                    moments.append(max(attempt_at, claimed or attempt_at))
    if services.me is not None and services.me.home_tabs is not None:
        moments += [due for due in [services.me.home_tabs.next_due()] if due is not None]
    return min(moments) if moments else None


def pending(services: Services) -> str:
    with services.db.read() as session:
        cards = session.execute(select(Card.sha, Card.flush_attempts, Card.next_flush_at)
                                .where(Card.dirty.is_(True))).all()
        updates = session.execute(select(TicketUpdate.ticket, TicketUpdate.last_error)
                                  .where(TicketUpdate.state == "pending")).all()
        deploys = session.execute(select(TicketDeploy.sha, TicketDeploy.last_error)
                                  .where(TicketDeploy.state == "pending")).all()
    return (f"dirty cards {cards}, pending ticket updates {updates}, deploys whose tickets "
            f"are to be worked out {deploys}")


BotFactory = Callable[..., TestBot]


def bot_services(database_url: str, tmp_path: Path, clock: SteppedClock, *,
                 slack: FakeSlack | None, config: str | None = None,
                 policy: OutboxPolicy | None = None, ticket_policy: TicketPolicy | None = None,
                 runbook_launcher: RunbookLauncher | None = None, tracer: Tracer | None = None,
                 **settings: Any) -> Services:
    """The services of a test bot: the config written beside it, Slack on when `slack` is
    given, the schema migrated; runbook buttons start runs with `runbook_launcher` if
    given; spans go to `tracer` if given."""
    config_path = tmp_path / "devexbot.yaml"
    if config is not None:
        config_path.write_text(config)
    values: dict[str, Any] = {"devexbot_config": config_path}
    if slack is not None:
        values.update(slack_bot_token=DEFAULT_TOKEN, slack_signing_secret=SIGNING_SECRET,
                      slack_api_url=slack.base_url, slack_default_channel=DEFAULT_CHANNEL)
    values.update(settings)
    services = build_services(make_settings(database_url, tmp_path, **values),
                              outbox_policy=policy, ticket_policy=ticket_policy, clock=clock,
                              leadership=SoleLeader(), runbook_launcher=runbook_launcher,
                              tracer=tracer)
    migrate(services.db.engine)
    return services


@pytest.fixture
def clock() -> SteppedClock:
    return SteppedClock()


@pytest.fixture
def slack(clock: SteppedClock) -> Iterator[FakeSlack]:
    """The fake Slack, stamping `ts` and timing calls by the test's clock."""
    with FakeSlack(clock=clock.time, monotonic=clock.monotonic) as fake:
        yield fake


@pytest.fixture
def make_bot(database_url: str, tmp_path: Path, clock: SteppedClock,
             slack: FakeSlack) -> Iterator[BotFactory]:
    """`make_bot(config=..., slack_on=..., **settings)`: a test bot on the test's database
    and clock, talking to the fake Slack (`slack_on=False`: Slack off); closed after the
    test. `policy` and `ticket_policy` are the outbox's and the ticket updates';
    `runbook_launcher` starts the runs of runbook buttons; `tracer` traces."""
    bots: list[TestBot] = []

    def make(*, slack_on: bool = True, **options: Any) -> TestBot:
        fake = slack if slack_on else None
        url = options.pop("database_url", database_url)
        services = bot_services(url, tmp_path, clock, slack=fake, **options)
        bot = TestBot(services, clock, fake)
        bots.append(bot)
        return bot

    yield make
    for bot in bots:
        bot.close()


@pytest.fixture
def bot(make_bot: BotFactory) -> TestBot:
    """A test bot with Slack on and the default config."""
    return make_bot()
