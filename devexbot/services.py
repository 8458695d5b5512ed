"""The running bot's parts, built once by `build_services` and handed to the edges."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING

from fastapi import Request
from slack_sdk import WebClient
from sqlalchemy import func, select

from correlation.fold import FoldRules
from devexbot.actions.approve import Approve, OpenRequests, Reject
from devexbot.actions.audit import AuditLog, SlackPermalinks, no_permalinks
from devexbot.actions.claims import Claims
from devexbot.actions.custom import Custom, NoRunbooks, RunbookLauncher
from devexbot.actions.label import Label
from devexbot.actions.merge import Merge
from devexbot.actions.registry import Actions
from devexbot.actions.repo_choices import RepoChoices
from devexbot.actions.request_review import RequestReview
from devexbot.actions.retry import Retry
from devexbot.actions.stamps import Stamps
from devexbot.approvals.card_events import ApprovalEvents
from devexbot.approvals.decisions import Decisions, TicketComments
from devexbot.approvals.effect import DecisionEffects
from devexbot.approvals.ledger import Ledger
from devexbot.approvals.policy import ApproverChecks
from devexbot.approvals.teams import GitHubTeams
from devexbot.clients.github import GitHubApi
from devexbot.clients.jenkins import JenkinsJobs
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
from devexbot.store.ingest import Ingest

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

log = logging.getLogger(__name__)

SLACK_TIMEOUT = 10  # seconds for one Web API call


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
    actions: Actions = field(init=False)  # what a click on a card (Slack or web) runs
    repo_choices: RepoChoices = field(init=False)  # the pull request menus' options

    @property
    def slack_on(self) -> bool:
        return self.slack_client is not None


def build_services(
    settings: Settings,
    *,
    config: BotConfig | None = None,
    outbox_policy: OutboxPolicy | None = None,
    ticket_policy: TicketPolicy | None = None,
    clock: Clock = SYSTEM_CLOCK,
    runbook_launcher: RunbookLauncher | None = None,
) -> Services:
    """Connect the parts: config, database, ingest, Slack when a bot token is set, the
    issue tracker when Jira is configured. `clock` is the time the parts that wait or
    retry go by (a test steps it); `runbook_launcher` is what runbook buttons start runs
    with (by default the runner's)."""
    from devexbot.clients.jira import JiraClient
    from devexbot.publish.card_extras import CardExtras
    from devexbot.publish.deploy_contents import DeployContentsNotes
    from devexbot.publish.failure_logs import FailureLogs
    from devexbot.publish.outbox import Outbox, OutboxPolicy, OutboxWorker
    from devexbot.publish.pacing import Pacing
    from devexbot.store.environments import record_deployments
    from devexbot.tickets.directory import TicketDirectory
    from devexbot.tickets.updates import DeployTicketUpdates, ticket_comment_for_decision
    from devexbot.tickets.worker import TicketPolicy, TicketUpdater, TicketWorker
    from handlers.slack import builtin_subcommands

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
    github = GitHubApi(settings)
    services = Services(
        settings=settings,
        config=config,
        db=db,
        ingest=Ingest(db, rules=card_loader.rules, clock=clock.now),
        router=CardRouter(config.routes, settings.slack_default_channel),
        authorizer=Authorizer(client),
        people=People(config.people, client),
        metrics=metrics,
        runbooks=runbooks,
        runs=RunStore(db),
        card_loader=card_loader,
        slack_client=client,
        github=github,
        jira=JiraClient.from_settings(settings),
        clock=clock,
    )
    teams = services.teams = GitHubTeams(github)
    services.ingest.hooks.append(record_deployments)
    services.ranges = CommitRanges(db, services.github, clock=clock.now)
    if services.jira is not None:
        services.tickets = TicketDirectory(db, services.jira, ttl=config.tickets.cache_ttl,
                                           clock=clock.now)
        services.ingest.hooks.append(DeployTicketUpdates(config.tickets))
        services.ticket_worker = TicketWorker(TicketUpdater(
            db, services.jira, directory=services.tickets,
            policy=ticket_policy or TicketPolicy(), clock=clock.now))
    if client is not None:
        metrics.watch_outbox(lambda: oldest_dirty(db), clock.now)
        services.outbox = Outbox(db, client, services.router, services.people,
                                 policy=outbox_policy or OutboxPolicy(),
                                 pacing=Pacing(clock=clock.monotonic), clock=clock.now,
                                 card_loader=card_loader, config=config,
                                 logs=FailureLogs(settings, services.github),
                                 extras=CardExtras(services.tickets, DeployContentsNotes(
                                     db, services.ranges, rules)))
        services.worker = OutboxWorker(services.outbox)
        services.runner = build_runner(services, client, services.outbox.pacing,
                                       channel_id=services.outbox.channels.id_now)
        from devexbot.runbooks.launcher import RunnerLauncher, ScheduledLauncher

        services.runbook_launcher = RunnerLauncher(services.runbooks, services.runner)
        services.scheduled_runbook_launcher = ScheduledLauncher(services.runbooks,
                                                                services.runner)
        services.scheduled_runbooks = scheduled_runbooks(config)
        services.approvers = policy_approvers(services)
    services.actions = build_actions(
        services, github=github, teams=teams,
        runbooks=runbook_launcher or services.runbook_launcher or NoRunbooks(),
        tickets=partial(ticket_comment_for_decision, services))
    services.repo_choices = RepoChoices(github)
    if client is not None:
        from handlers.slack import build_bolt_app

        services.bolt = build_bolt_app(services)
    services.ingest.on_change = _waker(services)
    return services


def build_actions(services: Services, *, github: GitHubApi, teams: GitHubTeams,
                  runbooks: RunbookLauncher, tickets: TicketComments) -> Actions:
    """The card buttons' actions, each with what it uses, and the path every click takes."""
    settings, config, db, ingest = services.settings, services.config, services.db, \
        services.ingest
    jenkins = JenkinsJobs(settings)
    claims, ledger, events = Claims(db), Ledger(db), ApprovalEvents(ingest)
    effects = DecisionEffects(github, jenkins,
                              callback_secret=settings.deploy_webhook_secret)
    decisions = Decisions(claims, ledger, effects, events, tickets)
    requests = OpenRequests(config, events)
    checks = ApproverChecks(services.authorizer, services.people, teams)
    client = services.slack_client
    permalinks = SlackPermalinks(client) if client is not None else no_permalinks
    return Actions(
        db, services.card_loader, authorizer=services.authorizer,
        permissions=config.permissions, people=services.people, claims=claims,
        stamps=Stamps(db, ingest), audit=AuditLog(db, services.people, permalinks),
        specs=(Merge(github, config.merge), Retry(github, jenkins),
               Approve(requests, checks, ledger, decisions),
               Reject(requests, checks, ledger, decisions),
               RequestReview(github), Label(github),
               Custom(config.buttons, jenkins, runbooks)))


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


def _waker(services: Services) -> Callable[[], None] | None:
    """Ingest's news wakes the outbox and the ticket updates."""
    workers = [w for w in (services.worker, services.ticket_worker) if w is not None]
    if not workers:
        return None

    def wake() -> None:
        for worker in workers:
            worker.wake()

    return wake


def services_of(request: Request) -> Services:
    services: Services = request.app.state.services
    return services
