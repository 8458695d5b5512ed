"""The running bot's parts, built once by `build_services`; only the entry points (the app,
the command line) take them whole."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from slack_sdk import WebClient
from sqlalchemy import func, select

from correlation.fold import FoldRules
from devexbot.approvals.teams import GitHubTeams
from devexbot.clients.github import GitHubApi
from devexbot.clock import SYSTEM_CLOCK, Clock
from devexbot.config import BotConfig, load_config
from devexbot.http.metrics import Metrics
from devexbot.publish.routing import CardRouter
from devexbot.runbooks.registry import Runbooks, load_runbooks
from devexbot.runbooks.runs import RunStore
from devexbot.settings import Settings
from devexbot.slack.authz import Authorizer
from devexbot.slack.metered import MeteredWebClient
from devexbot.slack.people import People
from devexbot.store import Card, Database
from devexbot.store.cards import CardLoader
from devexbot.store.commit_ranges import CommitRanges
from devexbot.store.ingest import Ingest, IngestHook
from devexbot.web.team import slack_team
from devexbot.web.workspace import Workspace

if TYPE_CHECKING:
    from slack_bolt import App

    from correlation.card import CommitCard, DeploymentLine
    from devexbot.clients.jira import JiraClient
    from devexbot.publish.outbox import Outbox, OutboxPolicy, OutboxWorker
    from devexbot.publish.pacing import Pacing
    from devexbot.runbooks.runner import RunbookRunner
    from devexbot.scheduler import RunbookLauncher as ScheduledRunbookLauncher
    from devexbot.scheduler import ScheduledRunbook, Scheduler
    from devexbot.scheduler.card_jobs import Approvers
    from devexbot.tickets.directory import TicketDirectory
    from devexbot.tickets.worker import TicketPolicy, TicketWorker
    from handlers.slack.events import SlackEvents

log = logging.getLogger(__name__)

SLACK_TIMEOUT = 10  # seconds for one Web API call


class Background(Protocol):
    """A part that works behind the requests, in threads of its own: the app starts it and
    stops it (in the reverse order) when it serves with `background` on."""

    def start(self) -> object: ...  # what it returns is not looked at

    def stop(self) -> None: ...


class RunbookLauncher(Protocol):
    """What a card button needs of the runbooks: start a command on someone's behalf."""

    def launch(self, command: str, args: Mapping[str, str], *, user_id: str,
               channel_id: str | None, thread_ts: str | None) -> str:
        """Start the run and say so in a line for the clicker; DevexbotError if it cannot."""
        ...


@dataclass
class Services:
    settings: Settings
    config: BotConfig
    db: Database
    ingest: Ingest
    router: CardRouter
    authorizer: Authorizer
    people: People
    metrics: Metrics
    runbooks: Runbooks
    runs: RunStore
    card_loader: CardLoader  # how every reader turns a stored card into a CommitCard
    workspace: Workspace  # the web pages, sign-in and live cards
    slack_events: SlackEvents  # what answers /slack/events (Bolt, or 503 with Slack off)
    background: list[Background]  # the outbox and ticket workers, Socket Mode
    github: GitHubApi | None = None
    teams: GitHubTeams | None = None
    slack_client: WebClient | None = None
    outbox: Outbox | None = None
    worker: OutboxWorker | None = None
    bolt: App | None = None
    runbook_launcher: RunbookLauncher | None = None  # runbook buttons start runs here
    runner: RunbookRunner | None = None
    scheduler: Scheduler | None = None  # built and started by the app's lifespan
    # Wired by the runbook and approval features: who may approve (for reminders), and the
    # commands with a `schedule:` and what starts them.
    approvers: Approvers | None = None
    scheduled_runbooks: list[ScheduledRunbook] = field(default_factory=list)
    scheduled_runbook_launcher: ScheduledRunbookLauncher | None = None
    ranges: CommitRanges | None = None
    jira: JiraClient | None = None
    tickets: TicketDirectory | None = None
    ticket_worker: TicketWorker | None = None
    clock: Clock = SYSTEM_CLOCK  # what the outbox, ticket updates and scheduler go by

    @property
    def slack_on(self) -> bool:
        return self.slack_client is not None

    def close(self) -> None:
        """End what the parts hold open: running runbooks, database connections."""
        if self.runner is not None:
            self.runner.close()
        self.db.dispose()


def build_services(
    settings: Settings,
    *,
    config: BotConfig | None = None,
    outbox_policy: OutboxPolicy | None = None,
    ticket_policy: TicketPolicy | None = None,
    clock: Clock = SYSTEM_CLOCK,
) -> Services:
    """Connect the parts: config, database, ingest, Slack when a bot token is set, the
    issue tracker when Jira is configured. `clock` is the time the parts that wait or
    retry go by (a test steps it)."""
    from devexbot.clients.jira import JiraClient
    from devexbot.publish.card_extras import CardExtras
    from devexbot.publish.deploy_contents import DeployContentsNotes
    from devexbot.publish.failure_logs import FailureLogs
    from devexbot.publish.outbox import Outbox, OutboxPolicy, OutboxWorker
    from devexbot.publish.pacing import Pacing
    from devexbot.slack.socket_mode import SocketModeConnection
    from devexbot.store.environments import record_deployments
    from devexbot.tickets.directory import TicketDirectory
    from devexbot.tickets.updates import DeployTicketUpdates
    from devexbot.tickets.worker import TicketPolicy, TicketUpdater, TicketWorker
    from handlers.slack import builtin_subcommands
    from handlers.slack.events import BoltEvents, SlackOff

    config = config if config is not None else load_config(settings.devexbot_config)
    runbooks = load_runbooks(config, reserved=builtin_subcommands())
    db = Database(settings.database_url)
    metrics = Metrics()
    client = None
    if settings.slack_bot_token is not None:
        client = MeteredWebClient(metrics=metrics,
                                  token=settings.slack_bot_token.get_secret_value(),
                                  base_url=settings.slack_api_url, timeout=SLACK_TIMEOUT)
    rules = config.tickets.rules(settings.jira_url)
    card_loader = CardLoader(FoldRules(tuple(config.environments), rules))
    router = CardRouter(config.routes, settings.slack_default_channel)
    people = People(config.people, client)
    github = GitHubApi(settings)
    jira = JiraClient.from_settings(settings)
    ranges = CommitRanges(db, github, clock=clock.now)
    hooks: list[IngestHook] = [record_deployments]
    tickets = ticket_worker = None
    if jira is not None:
        tickets = TicketDirectory(db, jira, ttl=config.tickets.cache_ttl, clock=clock.now)
        hooks.append(DeployTicketUpdates(config.tickets))
        ticket_worker = TicketWorker(TicketUpdater(
            db, jira, directory=tickets, policy=ticket_policy or TicketPolicy(),
            clock=clock.now))
    outbox = worker = None
    if client is not None:
        metrics.watch_outbox(lambda: oldest_dirty(db), clock.now)
        outbox = Outbox(db, client, router, people,
                        policy=outbox_policy or OutboxPolicy(),
                        pacing=Pacing(clock=clock.monotonic), clock=clock.now,
                        card_loader=card_loader, config=config,
                        logs=FailureLogs(settings, github),
                        extras=CardExtras(tickets, DeployContentsNotes(db, ranges, rules)))
        worker = OutboxWorker(outbox)
    workspace = Workspace(settings, db=db, card_loader=card_loader, config=config,
                          metrics=metrics, slack_on=client is not None,
                          team=slack_team(settings.slack_team_id, client))
    workers = [w for w in (worker, ticket_worker) if w is not None]
    # Ingest's news wakes the outbox, the ticket updates and the workspace's live cards.
    ingest = Ingest(db, rules=card_loader.rules, clock=clock.now, hooks=hooks,
                    on_change=[*(w.wake for w in workers), workspace.live.wake])
    services = Services(
        settings=settings,
        config=config,
        db=db,
        ingest=ingest,
        router=router,
        authorizer=Authorizer(client),
        people=people,
        metrics=metrics,
        runbooks=runbooks,
        runs=RunStore(db),
        card_loader=card_loader,
        workspace=workspace,
        slack_events=SlackOff(),
        background=list(workers),
        slack_client=client,
        github=github,
        teams=GitHubTeams(github),
        outbox=outbox,
        worker=worker,
        ranges=ranges,
        jira=jira,
        tickets=tickets,
        ticket_worker=ticket_worker,
        clock=clock,
    )
    if client is not None and outbox is not None:
        services.runner = build_runner(services, client, outbox.pacing,
                                       channel_id=outbox.channels.id_now)
        from devexbot.runbooks.launcher import RunnerLauncher, ScheduledLauncher

        services.runbook_launcher = RunnerLauncher(services.runbooks, services.runner)
        services.scheduled_runbook_launcher = ScheduledLauncher(services.runbooks,
                                                                services.runner)
        services.scheduled_runbooks = scheduled_runbooks(config)
        services.approvers = policy_approvers(services)
        from handlers.slack import build_bolt_app

        bolt = services.bolt = build_bolt_app(services)
        # Until the Bolt app is built from the parts it uses (before `Services`), what
        # needs it joins here.
        services.slack_events = BoltEvents(bolt, signing_secret=settings.slack_signing_secret)
        if settings.slack_app_token is not None:
            services.background.append(SocketModeConnection(
                bolt, settings.slack_app_token.get_secret_value()))
    return services


def scheduled_runbooks(config: BotConfig) -> list[ScheduledRunbook]:
    """The commands with a `schedule:`, for the scheduler."""
    from devexbot.scheduler import ScheduledRunbook

    return [ScheduledRunbook(command=name, cron=spec.schedule, channel=spec.channels[0])
            for name, spec in config.commands.items() if spec.schedule and spec.channels]


def policy_approvers(services: Services) -> Approvers:
    """Who the approval nudges mention: the policy's Slack users and groups, and its
    `github:` logins through the people map."""

    def approvers(card: CommitCard, deployment: DeploymentLine) -> list[str]:
        policy = services.config.approvals.get(deployment.environment)
        if policy is None:
            return []
        found = []
        for principal in policy.approvers:
            if principal[:1] in ("U", "W", "S"):
                found.append(principal)
            elif principal.startswith("github:"):
                slack = services.people.slack_id(login=principal.removeprefix("github:"))
                if slack:
                    found.append(slack)
        return found

    return approvers


def build_runner(services: Services, client: WebClient, pacing: Pacing, *,
                 channel_id: Callable[[str], str] | None = None) -> RunbookRunner:
    """The runbook runner with its three executors."""
    from devexbot.runbooks.executors.jenkins import JenkinsAccess, JenkinsExecutor
    from devexbot.runbooks.executors.local import LocalExecutor
    from devexbot.runbooks.executors.python import PythonExecutor
    from devexbot.runbooks.runner import RunbookRunner

    settings, options = services.settings, services.config.runbooks
    access = None
    if settings.jenkins_url:
        token = settings.jenkins_api_token
        access = JenkinsAccess(settings.jenkins_url, settings.jenkins_user,
                               token.get_secret_value() if token else None)
    return RunbookRunner(
        store=services.runs, authorizer=services.authorizer, client=client, pacing=pacing,
        settings=options,
        executors={
            "local": LocalExecutor(kill_grace=options.kill_grace),
            "jenkins": JenkinsExecutor(access, poll=options.jenkins_poll,
                                       kill_grace=options.kill_grace),
            "python": PythonExecutor(kill_grace=options.kill_grace),
        },
        channel_id=channel_id)


def oldest_dirty(db: Database) -> datetime | None:
    """When the oldest card Slack does not show yet became dirty (None: Slack is current)."""
    with db.read() as session:
        since: datetime | None = session.scalar(
            select(func.min(Card.dirty_since)).where(Card.dirty.is_(True)))
        return since
