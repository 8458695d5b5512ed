"""Persistence: SQLAlchemy 2 models, engines and Alembic migrations."""

from devexbot.store.engine import Database
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

__all__ = [
    "ActionClaim", "ApprovalDecision", "AuditEntry",
    "Base", "Card", "CardMessage", "CommitRange", "Database", "Delivery", "EnvironmentState",
    "EventRecord",
    "Notification", "RunbookRun", "RunbookSlot", "SchedulerJob", "SchedulerResult",
    "Subscription", "TicketInfo", "TicketUpdate",
]
