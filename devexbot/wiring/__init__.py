"""The composition root: every part of the bot, built once in dependency order by
`build_services`, each given only what it uses. Only the entry points (the app, the command
line) import this module, and only they hold the parts together."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Protocol

from slack_bolt import App
from slack_sdk import WebClient

from correlation.fold import FoldRules
from devexbot.actions.audit import AuditLog, SlackPermalinks, no_permalinks
from devexbot.actions.custom import NoRunbooks, RunbookLauncher
from devexbot.actions.registry import Actions
from devexbot.actions.repo_choices import RepoChoices
from devexbot.clients.github import GitHubApi
from devexbot.clients.github_teams import GitHubTeams
from devexbot.clients.jira import JiraClient
from devexbot.clock import SYSTEM_CLOCK, Clock
from devexbot.config import BotConfig, load_config
from devexbot.delivery.carried import CarriedCommitsLookup
from devexbot.delivery.gauges import DeliveryGauges
from devexbot.delivery.metrics import DeliveryMetrics
from devexbot.health.probes import readiness_of, service_probes
from devexbot.health.watch import Watch
from devexbot.http.metrics import Metrics
from devexbot.lookups.deploy_contents import DeployRangeLookup
from devexbot.lookups.due import LookupClaims, LookupPolicy
from devexbot.lookups.failure_logs import FailureLogs, LogLookup
from devexbot.lookups.merge_settings import MergeSettingsLookup
from devexbot.lookups.tickets import TicketLookup
from devexbot.lookups.worker import CardLookups, Lookup, LookupWorker
from devexbot.publish.card_extras import CardExtras
from devexbot.publish.deploy_contents import DeployContentsNotes
from devexbot.publish.outbox import Outbox, OutboxPolicy, OutboxWorker
from devexbot.publish.pacing import Pacing
from devexbot.publish.routing import CardRouter
from devexbot.runbooks.launcher import RunnerLauncher, ScheduledLauncher
from devexbot.runbooks.readers import RunReaders
from devexbot.runbooks.registry import Runbooks, load_runbooks
from devexbot.runbooks.runner import RunbookRunner
from devexbot.runbooks.runs import RunStore
from devexbot.scheduler import Scheduler, build_scheduler
from devexbot.scheduler.card_jobs import (
    CardJobs,
    NoNudges,
    Nudges,
    RecentCards,
    ThreadNudges,
    policy_approvers,
)
from devexbot.scheduler.leader import Leadership
from devexbot.scheduler.runbooks import runbook_jobs, scheduled_runbooks
from devexbot.scheduler.service import JobSpec
from devexbot.settings import Settings
from devexbot.slack.authz import Authorizer
from devexbot.slack.directory import NoDirectory, SlackDirectory, WebDirectory
from devexbot.slack.metered import MeteredWebClient
from devexbot.slack.people import People
from devexbot.slack.socket_mode import SocketModeConnection
from devexbot.store import Database
from devexbot.store.cards import CardLoader, oldest_dirty
from devexbot.store.commit_ranges import CommitRanges
from devexbot.store.delivery_records import DeliveryRecords
from devexbot.store.environments import record_deployments
from devexbot.store.ingest import Ingest, IngestHook
from devexbot.store.merge_queue_rules import QueueRules
from devexbot.store.merge_settings import MergeSettings
from devexbot.store.seen_requests import SeenRequests
from devexbot.tickets.carried import CarriedTickets
from devexbot.tickets.directory import TicketDirectory
from devexbot.tickets.policy import TicketPolicy
from devexbot.tickets.updates import DecisionComments, DeployTicketUpdates, NoDecisionComments
from devexbot.tickets.worker import TicketUpdater, TicketWorker
from devexbot.tracing import NULL_TRACER, Tracer, tracer_from_environment
from devexbot.web.access import DemoUser
from devexbot.web.team import slack_team
from devexbot.web.workspace import Workspace
from devexbot.wiring.actions import build_actions
from devexbot.wiring.catchup import catch_up_jobs
from devexbot.wiring.me import MeParts, build_me
from devexbot.wiring.runners import build_runner, jenkins_access
from handlers.slack import (
    build_bolt_app,
    card_actions,
    commands,
    custom_buttons,
    pr_selects,
    reject_form,
)
from handlers.slack.commands import CommandRouter
from handlers.slack.events import BoltEvents, SlackEvents, SlackOff
from handlers.slack.metrics import DeliveryCommands
from handlers.slack.runbooks import RunbookCommands
from handlers.slack.subscriptions import Subscriptions
from handlers.slack.where import Where
from handlers.slack.workspace import OwnWorkspace

log = logging.getLogger(__name__)

SLACK_TIMEOUT = 10  # seconds for one Web API call


class Background(Protocol):
    """A part that works behind the requests, in threads of its own: the app starts it and
    stops it (in the reverse order) when it serves with `background` on."""

    def start(self) -> object: ...  # what it returns is not looked at

    def stop(self) -> None: ...


@dataclass(frozen=True)
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
    run_readers: RunReaders  # who may read a run's arguments and output
    card_loader: CardLoader  # how every reader turns a stored card into a CommitCard
    scheduler: Scheduler  # started by the app's lifespan (a test bot runs its jobs itself)
    # Comments on the commit's tickets when someone decides on a deploy in Slack.
    decision_comments: DecisionComments | NoDecisionComments
    actions: Actions  # every card button's action, and the one path a click takes
    repo_choices: RepoChoices  # the options of the PR cards' menus
    workspace: Workspace  # the web pages, sign-in and live cards
    slack_events: SlackEvents  # what answers /slack/events (Bolt, or 503 with Slack off)
    # The lookups, outbox and ticket workers, Socket Mode and the scheduler, in the order
    # they start.
    background: tuple[Background, ...]
    watch: Watch  # what the bot saw of the services it uses; checks them while one is down
    delivery_metrics: DeliveryMetrics  # DORA's four keys, for the API, page, Slack, gauges
    github: GitHubApi | None = None
    teams: GitHubTeams | None = None
    slack_client: WebClient | None = None
    outbox: Outbox | None = None
    worker: OutboxWorker | None = None
    bolt: App | None = None
    commands: CommandRouter | None = None  # `/devex`, with Slack on
    runbook_launcher: RunbookLauncher | None = None  # runbook buttons start runs here
    runner: RunbookRunner | None = None
    ranges: CommitRanges | None = None
    jira: JiraClient | None = None
    tickets: TicketDirectory | None = None
    ticket_worker: TicketWorker | None = None
    lookups: LookupWorker | None = None  # tickets, deploy contents and logs, for the cards
    clock: Clock = SYSTEM_CLOCK  # what the outbox, ticket updates and scheduler go by
    tracer: Tracer = NULL_TRACER  # spans from a delivery to the Slack calls it causes
    me: MeParts | None = None  # preferences, Home tabs, `/devex me`, the digest

    @property
    def slack_on(self) -> bool:
        return self.slack_client is not None

    def close(self) -> None:
        """End what the parts hold open: running runbooks, database connections."""
        if self.runner is not None:
            self.runner.close()
        self.db.dispose()
        self.tracer.close()


def build_services(
    settings: Settings,
    *,
    config: BotConfig | None = None,
    outbox_policy: OutboxPolicy | None = None,
    ticket_policy: TicketPolicy | None = None,
    lookup_policy: LookupPolicy | None = None,
    clock: Clock = SYSTEM_CLOCK,
    leadership: Leadership | None = None,
    runbook_launcher: RunbookLauncher | None = None,
    tracer: Tracer | None = None,
    demo_user: DemoUser | None = None,
) -> Services:
    """Connect the parts (Slack when a bot token is set, Jira when configured). `clock`:
    what waiting parts go by (a test steps it); `leadership`: whether this process runs the
    scheduled jobs (default: elected among PostgreSQL replicas); `runbook_launcher`: what
    runbook buttons start runs with; `tracer`: where traces go (default: as `OTEL_*` ask);
    `demo_user`: whom a visitor on the machine acts as on the web (`devexbot demo` only)."""
    config = config if config is not None else load_config(settings.devexbot_config)
    runbooks = load_runbooks(config, reserved=commands.BUILTIN_SUBCOMMANDS)
    db = Database(settings.database_url)
    metrics = Metrics()
    github = GitHubApi(settings)
    readiness = readiness_of(settings, github, clock.now)
    tracer = tracer if tracer is not None else tracer_from_environment()
    client = None
    if settings.slack_bot_token is not None:
        client = MeteredWebClient(metrics=metrics, tracer=tracer, readiness=readiness,
                                  token=settings.slack_bot_token.get_secret_value(),
                                  base_url=settings.slack_api_url, timeout=SLACK_TIMEOUT)
    rules = config.tickets.rules(settings.jira_url)
    card_loader = CardLoader(FoldRules(tuple(config.environments), rules))
    policies = config.policies()  # what the decisions read, built once
    router = CardRouter(policies.routes, settings.slack_default_channel)
    directory: SlackDirectory = WebDirectory(client) if client is not None else NoDirectory()
    teams = GitHubTeams(github)
    people = People(config.people, directory)
    authorizer = Authorizer(directory, people, teams)
    audit = AuditLog(db, people, SlackPermalinks(client) if client is not None
                     else no_permalinks)
    me = build_me(db, card_loader, config, policies, people, authorizer, audit, client,
                  clock=clock)
    runs = RunStore(db)
    jira = JiraClient.from_settings(settings, readiness)
    hooks: list[IngestHook] = []
    ranges = CommitRanges(db, github, clock=clock.now)
    merge_settings = MergeSettings(db, github, clock=clock.now,
                                   queue_rules=QueueRules(db, github, clock=clock.now))
    tickets = ticket_worker = None
    decision_comments: DecisionComments | NoDecisionComments = NoDecisionComments()
    if jira is not None:
        tickets = TicketDirectory(db, jira, ttl=config.tickets.cache_ttl, clock=clock.now)
        # Before record_deployments: it reads what was live before the deploy.
        hooks.append(DeployTicketUpdates(config.tickets, rules))
        ticket_policy = ticket_policy or TicketPolicy()
        ticket_worker = TicketWorker(
            TicketUpdater(db, jira, directory=tickets, policy=ticket_policy, clock=clock.now),
            CarriedTickets(db, ranges, card_loader, config.tickets, policy=ticket_policy,
                           clock=clock.now))
        if config.tickets.on_decision:
            decision_comments = DecisionComments(db, people, ticket_worker.wake,
                                                 clock=clock.now)
    # Delivery metrics: also before record_deployments, which moves what is live.
    hooks.append(DeliveryRecords(hotfix_label=config.metrics.hotfix_label))
    hooks.append(record_deployments)
    logs = FailureLogs(settings, github)
    found: list[Lookup] = [DeployRangeLookup(db, ranges), LogLookup(db, card_loader, logs),
                           MergeSettingsLookup(merge_settings), CarriedCommitsLookup(db, ranges)]
    if tickets is not None:
        found.append(TicketLookup(db, tickets))
    lookups = LookupWorker(CardLookups(
        LookupClaims(db, card_loader, policy=lookup_policy or LookupPolicy(), clock=clock.now),
        found))
    delivery = DeliveryMetrics(db, config.metrics, clock=clock.now)
    metrics.registry.register(DeliveryGauges(delivery))
    outbox: Outbox | None = None
    worker: OutboxWorker | None = None
    runner: RunbookRunner | None = None
    launcher = runbook_launcher
    devex: CommandRouter | None = None
    bolt: App | None = None
    nudges: Nudges = NoNudges()  # Slack is off: notes on cards, no nudges
    scheduled: list[JobSpec] = []
    if client is not None:
        metrics.watch_outbox(lambda: oldest_dirty(db), clock.now)
        outbox = Outbox(db, client, router, people,
                        policy=outbox_policy or OutboxPolicy(),
                        pacing=Pacing(clock=clock.monotonic), clock=clock.now,
                        tracer=tracer, card_loader=card_loader, config=config, policies=policies,
                        logs=logs.sources,
                        extras=CardExtras(db, DeployContentsNotes(db, ranges, rules),
                                          merge_settings),
                        prefs=me.prefs)
        worker = OutboxWorker(outbox)
        runner = build_runner(config.runbooks, runs, authorizer, client, outbox.pacing,
                              jenkins=jenkins_access(settings),
                              channel_id=outbox.channels.id_now)
        launcher = launcher or RunnerLauncher(runbooks, runner)
        scheduled = runbook_jobs(scheduled_runbooks(config.commands),
                                 ScheduledLauncher(runbooks, runner),
                                 timezone=config.schedule.timezone)
        nudges = ThreadNudges(outbox.reply_once, people, clock,
                              approvers=policy_approvers(config.approvals, people),
                              prefs=me.prefs)
    team = slack_team(settings.slack_team_id, client)  # whose people sign in and act
    workspace = Workspace(settings, db=db, card_loader=card_loader, policies=policies,
                          metrics=metrics, slack_on=client is not None, team=team,
                          merge_settings=merge_settings, names=people.name, demo_user=demo_user,
                          home=me.facts, prefs=me.changes)
    workers = [w for w in (lookups, worker, ticket_worker, me.worker) if w is not None]
    # Ingest's news wakes the outbox, the ticket updates, the Home tabs and the workspace's
    # live cards.
    ingest = Ingest(db, rules=card_loader.rules, clock=clock.now, hooks=hooks,
                    on_change=[*(w.wake for w in workers), workspace.live.wake], tracer=tracer)
    actions = build_actions(settings, config, policies, db, ingest, card_loader, authorizer,
                            people, audit, github=github, merge_settings=merge_settings,
                            runbooks=launcher or NoRunbooks(),
                            tickets=decision_comments.comment)
    repo_choices = RepoChoices(github)
    if client is not None and runner is not None:
        runbook_commands = RunbookCommands(runbooks, runner, runs, authorizer, client)
        devex = slash = CommandRouter(
            Subscriptions(db, authorizer, audit, allowed=config.permissions.subscribe,
                          routes=config.routes),
            Where(db, config.environments, ranges),
            *([me.commands] if me.commands is not None else []),
            DeliveryCommands(delivery, settings.devexbot_public_url),
            runbook_commands)
        bolt = build_bolt_app(client, [
            lambda app: commands.register(app, slash),
            runbook_commands.register,
            lambda app: card_actions.register(app, actions),
            lambda app: custom_buttons.register(app, actions),
            lambda app: pr_selects.register(app, actions, repo_choices, db),
            lambda app: reject_form.register(app, actions),
            *([me.commands.register] if me.commands is not None else []),
        ], signing_secret=settings.slack_signing_secret,
            workspace=OwnWorkspace(team.team_id, enterprises=settings.enterprise_ids))
    slack_events: SlackEvents = SlackOff()
    background: list[Background] = list(workers)
    if bolt is not None:
        slack_events = BoltEvents(bolt, signing_secret=settings.slack_signing_secret,
                                  seen=SeenRequests(db, clock=clock.now), clock=clock.now)
        if settings.slack_app_token is not None:
            background.append(SocketModeConnection(
                bolt, settings.slack_app_token.get_secret_value()))
    cards = CardJobs(RecentCards(db, card_loader, router, config.schedule), config, ingest,
                     nudges)
    scheduler = build_scheduler(db, cards, schedule=config.schedule,
                                retention=config.retention, clock=clock,
                                runbooks=[*scheduled, *me.jobs,
                                          *catch_up_jobs(settings, config, db, metrics,
                                                        clock)],
                                leadership=leadership)
    services = Services(
        settings=settings, config=config, db=db,
        ingest=ingest,
        router=router,
        authorizer=authorizer,
        people=people,
        metrics=metrics,
        runbooks=runbooks,
        runs=runs,
        run_readers=RunReaders(runbooks, authorizer),
        card_loader=card_loader,
        scheduler=scheduler,
        decision_comments=decision_comments,
        actions=actions,
        repo_choices=repo_choices,
        workspace=workspace,
        slack_events=slack_events,
        background=(*background, scheduler),
        delivery_metrics=delivery,
        watch=Watch(readiness, service_probes(settings, slack=client, github=github,
                                              jira=jira), clock),
        github=github, teams=teams,
        slack_client=client,
        outbox=outbox, worker=worker,
        bolt=bolt,
        commands=devex,
        runbook_launcher=launcher,
        runner=runner,
        ranges=ranges,
        jira=jira,
        tickets=tickets,
        ticket_worker=ticket_worker,
        lookups=lookups,
        clock=clock,
        tracer=tracer,
        me=me,
    )
    return services
