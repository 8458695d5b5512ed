"""Persistence: SQLAlchemy 2 models, engines and Alembic migrations."""

from devexbot.store.delivery_tables import ChangeSignal, DeployRecord, ShippedCommit
from devexbot.store.engine import Database

# Preferences, held DMs and Home tabs (`/devex me`).
from devexbot.store.home_tabs import HomeTab

# Their own modules (the settings' cache beside it); imported here so the schema has them.
from devexbot.store.keys import SigningKey
from devexbot.store.merge_queue_rules import BranchQueueRuleRow
from devexbot.store.merge_settings import RepoMergeSettingsRow
from devexbot.store.messages import CardMessage
from devexbot.store.models import (
    ActionClaim,
    ApprovalDecision,
    AuditEntry,
    Base,
    Card,
    CommitRange,
    Delivery,
    EnvironmentState,
    EventRecord,
    Notification,
    RunbookRun,
    RunbookSlot,
    SchedulerJob,
    SchedulerResult,
    TicketInfo,
    TicketUpdate,
)
from devexbot.store.pr_messages import PullRequestMessage
from devexbot.store.prefs import HeldDm, PersonPrefsRow
from devexbot.store.seen_requests import SeenRequest
from devexbot.store.subscriptions import Subscription
from devexbot.store.ticket_deploys import TicketDeploy

# Catch-up's tables (its own module), imported so the schema has them.
from devexbot.store import catchup as catchup  # isort: skip

__all__ = [
    "ActionClaim",
    "ApprovalDecision",
    "AuditEntry",
    "Base",
    "Card",
    "CardMessage",
    "CommitRange",
    "Database",
    "Delivery",
    "EnvironmentState",
    "EventRecord",
    "HeldDm",
    "HomeTab",
    "Notification",
    "PersonPrefsRow",
    "PullRequestMessage",
    "RepoMergeSettingsRow",
    "RunbookRun",
    "RunbookSlot",
    "SchedulerJob",
    "SchedulerResult",
    "SeenRequest",
    "SigningKey",
    "Subscription",
    "TicketDeploy",
    "TicketInfo",
    "TicketUpdate",
]
__all__ += ["BranchQueueRuleRow"]
__all__ += ["ChangeSignal", "DeployRecord", "ShippedCommit"]  # the delivery metrics' tables
