"""The card buttons' actions, assembled for the composition root."""

from __future__ import annotations

from correlation.policies import Policies
from devexbot.actions.approve import Approve, OpenRequests, Reject
from devexbot.actions.audit import AuditLog
from devexbot.actions.claims import Claims
from devexbot.actions.custom import Custom, RunbookLauncher
from devexbot.actions.enqueue import Enqueue
from devexbot.actions.label import Label
from devexbot.actions.merge import Merge
from devexbot.actions.registry import Actions
from devexbot.actions.request_review import RequestReview
from devexbot.actions.retry import Retry
from devexbot.actions.stamps import Stamps
from devexbot.approvals.authors import CommitAuthors
from devexbot.approvals.card_events import ApprovalEvents
from devexbot.approvals.decisions import Decisions, TicketComments
from devexbot.approvals.effect import DecisionEffects
from devexbot.approvals.ledger import Ledger
from devexbot.approvals.policy import ApproverChecks
from devexbot.clients.github import GitHubApi
from devexbot.clients.jenkins import JenkinsJobs
from devexbot.config import BotConfig
from devexbot.settings import Settings
from devexbot.slack.authz import Authorizer
from devexbot.slack.people import People
from devexbot.store import Database
from devexbot.store.cards import CardLoader
from devexbot.store.ingest import Ingest
from devexbot.store.merge_settings import MergeSettings


def build_actions(settings: Settings, config: BotConfig, policies: Policies, db: Database,
                  ingest: Ingest, card_loader: CardLoader, authorizer: Authorizer,
                  people: People, audit: AuditLog, *, github: GitHubApi,
                  merge_settings: MergeSettings,
                  runbooks: RunbookLauncher, tickets: TicketComments) -> Actions:
    """The card buttons' actions, each with what it uses, and the path every click takes."""
    jenkins = JenkinsJobs(settings)
    claims, ledger, events = Claims(db), Ledger(db), ApprovalEvents(ingest)
    effects = DecisionEffects(github, jenkins, callback_secret=settings.deploy_webhook_secret)
    decisions = Decisions(claims, ledger, effects, events, tickets)
    requests = OpenRequests(config, policies, events)
    checks = ApproverChecks(authorizer, people, CommitAuthors(github))
    return Actions(
        db, card_loader, authorizer=authorizer, permissions=config.permissions,
        people=people, claims=claims, stamps=Stamps(db, ingest),
        audit=audit,
        specs=(Merge(github, policies.merge, merge_settings),
               Retry(github, jenkins, policies.retry),
               Approve(requests, checks, ledger, decisions),
               Reject(requests, checks, ledger, decisions),
               RequestReview(github), Label(github),
               Custom(config.buttons, jenkins, runbooks),
               Enqueue(github, policies.merge, merge_settings)))


