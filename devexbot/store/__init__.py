"""Persistence: SQLAlchemy 2 models, engines and Alembic migrations."""

from devexbot.store.delivery_tables import ChangeSignal, DeployRecord, ShippedCommit
from devexbot.store.engine import Database

# Their own modules (the settings' cache beside it); imported here so the schema has them.
from devexbot.store.keys import SigningKey
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
    Subscription,
    TicketInfo,
    TicketUpdate,
)
from devexbot.store.seen_requests import SeenRequest
from devexbot.store.ticket_deploys import TicketDeploy

__all__ = [
    "ActionClaim", "ApprovalDecision", "AuditEntry",
    "Base", "Card", "CardMessage", "CommitRange", "Database", "Delivery", "EnvironmentState",
    "EventRecord", "Notification", "RepoMergeSettingsRow", "RunbookRun", "RunbookSlot",
    "SchedulerJob", "SchedulerResult", "SeenRequest", "SigningKey", "Subscription",
    "TicketDeploy", "TicketInfo", "TicketUpdate",
]
__all__ += ["ChangeSignal", "DeployRecord", "ShippedCommit"]  # the delivery metrics' tables
