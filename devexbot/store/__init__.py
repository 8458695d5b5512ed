"""Persistence: SQLAlchemy 2 models, engines and Alembic migrations."""

from devexbot.store.engine import Database
from devexbot.store.keys import SigningKey
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
    "Notification", "RunbookRun", "RunbookSlot", "SchedulerJob", "SchedulerResult",
    "SigningKey", "Subscription", "TicketDeploy", "TicketInfo", "TicketUpdate",
]
