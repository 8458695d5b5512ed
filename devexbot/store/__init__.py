"""Persistence: SQLAlchemy 2 models, engines and Alembic migrations."""

from devexbot.store.engine import Database

# Its own module (the settings' cache beside it); imported here so the schema has it.
from devexbot.store.merge_settings import RepoMergeSettingsRow
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
from devexbot.store.ticket_deploys import TicketDeploy

__all__ = [
    "ActionClaim", "ApprovalDecision", "AuditEntry",
    "Base", "Card", "CommitRange", "Database", "Delivery", "EnvironmentState", "EventRecord",
    "Notification", "RepoMergeSettingsRow", "RunbookRun", "RunbookSlot", "SchedulerJob",
    "SchedulerResult", "Subscription", "TicketDeploy", "TicketInfo", "TicketUpdate",
]
