"""The tables: deliveries (dedupe), events (append-only), cards (materialised state)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    TypeDecorator,
    Unicode,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite stores them naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime stored")
        return None if value is None else value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


JSONDoc = JSON().with_variant(JSONB(), "postgresql")

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Delivery(Base):
    """One inbound webhook delivery; (source, delivery_id) is what makes redelivery a no-op."""

    __tablename__ = "deliveries"
    __table_args__ = (UniqueConstraint("source", "delivery_id", name="uq_deliveries_source_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(16))
    delivery_id: Mapped[str] = mapped_column(String(200))
    event_type: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    outcome: Mapped[str] = mapped_column(String(16))  # stored|ignored|unparsed|unattached
    detail: Mapped[str | None] = mapped_column(Text)
    payload: Mapped[Any | None] = mapped_column(JSONDoc)  # kept only when unparsed
    traceparent: Mapped[str | None] = mapped_column(String(55))  # its request's span (W3C)


class Card(Base):
    """One commit's card: its folded slot state and its first Slack message (`CardMessage`)."""

    __tablename__ = "cards"
    __table_args__ = (
        UniqueConstraint("repo", "sha", name="uq_cards_repo_sha"),
        Index("ix_cards_repo_updated", "repo", "updated_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    repo: Mapped[str] = mapped_column(String(200))
    sha: Mapped[str] = mapped_column(String(40))
    state: Mapped[list[dict[str, Any]]] = mapped_column(JSONDoc, default=list)
    doc: Mapped[dict[str, Any]] = mapped_column(JSONDoc, default=dict)
    branch: Mapped[str | None] = mapped_column(String(255))
    pr_number: Mapped[int | None] = mapped_column(Integer)
    superseded_by: Mapped[str | None] = mapped_column(String(40), index=True)
    overall: Mapped[str] = mapped_column(String(16), default="neutral")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Indexed: the web workspace polls for cards whose changed_at moved (any replica's).
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    version: Mapped[int] = mapped_column(Integer, default=0)
    dirty: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    dirty_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    render_hash: Mapped[str | None] = mapped_column(String(64))
    slack_channel: Mapped[str | None] = mapped_column(String(32))
    slack_ts: Mapped[str | None] = mapped_column(String(32))
    slack_permalink: Mapped[str | None] = mapped_column(String(500))
    slack_route_channel: Mapped[str | None] = mapped_column(String(100))  # as routed
    # Its first message is a reply in this thread (its PR's message, `per: pull_request`).
    slack_thread_ts: Mapped[str | None] = mapped_column(String(32))
    # The outbox: a flusher leases a card while it talks to Slack, so ingest never waits on
    # Slack and two flushers never post the same card; failures back off per card.
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claim_token: Mapped[str | None] = mapped_column(String(32))
    claim_owner: Mapped[str | None] = mapped_column(String(255))  # replica_name() of the flusher
    flush_attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_flush_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Set before chat.postMessage, cleared when its ts is stored: after a crash, look it up.
    post_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The lookups (tickets, deploy contents, failure logs): the version they last looked
    # at, and the lease of the replica looking now; a card whose version moved is due.
    looked_up_version: Mapped[int | None] = mapped_column(Integer)
    lookup_until: Mapped[datetime | None] = mapped_column(UTCDateTime)


class EventRecord(Base):
    """A normalised Event as it arrived: append-only, until retention prunes it (cards keep
    their folded slot state, so they do not need their old events)."""

    __tablename__ = "events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    delivery_pk: Mapped[int] = mapped_column(ForeignKey("deliveries.id", ondelete="CASCADE"),
                                             index=True)
    card_id: Mapped[int | None] = mapped_column(ForeignKey("cards.id", ondelete="SET NULL"),
                                                index=True)
    repo: Mapped[str] = mapped_column(String(200))
    sha: Mapped[str] = mapped_column(String(40))
    source: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(255))
    status: Mapped[str | None] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    data: Mapped[dict[str, Any]] = mapped_column(JSONDoc, default=dict)
    stored_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class Notification(Base):
    """A thread reply or DM sent once per (card, key): a failure, an approval request."""

    __tablename__ = "notifications"
    __table_args__ = (UniqueConstraint("card_id", "key", name="uq_notifications_card_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    card_id: Mapped[int] = mapped_column(ForeignKey("cards.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(255))
    channel: Mapped[str | None] = mapped_column(String(32))
    ts: Mapped[str | None] = mapped_column(String(32))
    # sending | sent | unsure (the post may have reached Slack: looked for in the thread)
    state: Mapped[str] = mapped_column(String(16), default="sending")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    thread_ts: Mapped[str | None] = mapped_column(String(32))  # the thread it replies in


class ActionClaim(Base):
    """One action on one thing, claimed before it runs: a double click or Slack's retry of
    the same interaction finds the claim and does nothing."""

    __tablename__ = "action_claims"
    __table_args__ = (UniqueConstraint("key", name="uq_action_claims_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(400))
    state: Mapped[str] = mapped_column(String(16))  # running | done | failed
    slack_user: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AuditEntry(Base):
    """Who did what from a card (or tried to), and how it ended."""

    __tablename__ = "audit"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    slack_user: Mapped[str] = mapped_column(String(32))
    github_login: Mapped[str | None] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(40))
    repo: Mapped[str | None] = mapped_column(String(200), index=True)
    sha: Mapped[str | None] = mapped_column(String(40))
    environment: Mapped[str | None] = mapped_column(String(100))
    target: Mapped[str | None] = mapped_column(String(255))
    result: Mapped[str] = mapped_column(String(16))  # ok | refused | failed | duplicate
    detail: Mapped[str | None] = mapped_column(Text)
    error_id: Mapped[str | None] = mapped_column(String(16))
    permalink: Mapped[str | None] = mapped_column(String(500))


class ApprovalDecision(Base):
    """One person's decision on one approval request: unique per (request, person), so a
    double click or Slack's retry counts once."""

    __tablename__ = "approvals"
    __table_args__ = (
        UniqueConstraint("request", "slack_user", name="uq_approvals_request_slack_user"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request: Mapped[str] = mapped_column(String(400))
    repo: Mapped[str] = mapped_column(String(200))
    sha: Mapped[str] = mapped_column(String(40))
    environment: Mapped[str] = mapped_column(String(100))
    slack_user: Mapped[str] = mapped_column(String(32))
    github_login: Mapped[str | None] = mapped_column(String(100))
    decision: Mapped[str] = mapped_column(String(16))  # approved | rejected
    reason: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class RunbookRun(Base):
    """One request to run a runbook command, refused or run: the audit trail of runbooks.

    Arguments are stored as shown (secrets redacted), output as its redacted tail.
    """

    __tablename__ = "runbook_runs"
    __table_args__ = (Index("ix_runbook_runs_command_created", "command", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    command: Mapped[str] = mapped_column(String(64))
    executor: Mapped[str] = mapped_column(String(16))  # local | jenkins | python
    user_id: Mapped[str] = mapped_column(String(32))
    user_name: Mapped[str | None] = mapped_column(String(100))
    channel: Mapped[str] = mapped_column(String(32))
    channel_name: Mapped[str | None] = mapped_column(String(100))
    args: Mapped[dict[str, str]] = mapped_column(JSONDoc, default=dict)
    # confirming | cancelled | refused | running | succeeded | failed | timed_out |
    # interrupted | error | lost
    status: Mapped[str] = mapped_column(String(16), index=True)
    reason: Mapped[str | None] = mapped_column(Text)  # why refused, or what went wrong
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    exit_code: Mapped[int | None] = mapped_column(Integer)
    output_tail: Mapped[str | None] = mapped_column(Text)
    url: Mapped[str | None] = mapped_column(String(500))  # the Jenkins build
    slack_channel: Mapped[str | None] = mapped_column(String(32))
    slack_ts: Mapped[str | None] = mapped_column(String(32))  # the "ran" message
    slack_reply_ts: Mapped[str | None] = mapped_column(String(32))  # its output reply
    rerun_of: Mapped[int | None] = mapped_column(Integer)


class RunbookSlot(Base):
    """A running run's hold on one of its command's `concurrency` slots.

    The primary key makes the claim atomic across threads and replicas: a second run
    of a command with one slot fails to insert. A slot whose holder died expires.
    """

    __tablename__ = "runbook_slots"

    command: Mapped[str] = mapped_column(String(64), primary_key=True)
    slot: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    run_id: Mapped[int] = mapped_column(ForeignKey("runbook_runs.id", ondelete="CASCADE"),
                                        unique=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


class SchedulerJob(Base):
    """APScheduler's persistent job store, exactly as its SQLAlchemyJobStore defines it.

    The migrations create it, so the job store finds it and never creates a table itself.
    """

    __tablename__ = "scheduler_jobs"

    id: Mapped[str] = mapped_column(Unicode(191), primary_key=True)
    next_run_time: Mapped[float | None] = mapped_column(Float(25), index=True)
    job_state: Mapped[bytes] = mapped_column(LargeBinary)


class SchedulerResult(Base):
    """The last run of each scheduled job, for `devexbot jobs`."""

    __tablename__ = "scheduler_results"

    job_id: Mapped[str] = mapped_column(String(191), primary_key=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime] = mapped_column(UTCDateTime)
    result: Mapped[str] = mapped_column(String(16))  # ok | failed | skipped
    detail: Mapped[str | None] = mapped_column(Text)
    runner: Mapped[str] = mapped_column(String(200))  # host:pid of the replica that ran it


DEPLOY_UPDATE = text("kind IN ('comment', 'transition')")  # what a deploy owes a ticket


class TicketInfo(Base):
    """A ticket's title and status as the tracker last said, shared by every replica."""

    __tablename__ = "ticket_info"
    __table_args__ = (UniqueConstraint("key", name="uq_ticket_info_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(120))
    title: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str | None] = mapped_column(String(100))
    found: Mapped[bool] = mapped_column(Boolean, default=True)
    fetched_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # last good answer
    checked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)  # last try
    error: Mapped[str | None] = mapped_column(Text)


class TicketUpdate(Base):
    """One comment or transition a ticket is owed, done at most once, retried with back-off:
    a deploy's once per (ticket, environment, kind), whichever deploy brought the ticket
    there; a decision's once per (ticket, environment, sha, kind)."""

    __tablename__ = "ticket_updates"
    __table_args__ = (
        UniqueConstraint("ticket", "environment", "sha", "kind", name="uq_ticket_updates_job"),
        Index("uq_ticket_updates_deploy", "ticket", "environment", "kind", unique=True,
              sqlite_where=DEPLOY_UPDATE, postgresql_where=DEPLOY_UPDATE),
        Index("ix_ticket_updates_due", "state", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket: Mapped[str] = mapped_column(String(120))
    environment: Mapped[str] = mapped_column(String(100))
    sha: Mapped[str] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(40))  # comment | transition | decision:<what>
    repo: Mapped[str] = mapped_column(String(200))
    card_id: Mapped[int | None] = mapped_column(ForeignKey("cards.id", ondelete="SET NULL"),
                                                index=True)
    text: Mapped[str | None] = mapped_column(Text)  # the comment
    transition: Mapped[str | None] = mapped_column(String(100))  # the status to move to
    state: Mapped[str] = mapped_column(String(24), default="pending")
    # pending | done | failed_permanent
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class EnvironmentState(Base):
    """What runs in one environment of a repo: the latest successful deploy by event time
    (so an older commit deployed again later is live again)."""

    __tablename__ = "environment_state"
    __table_args__ = (
        UniqueConstraint("repo", "env_key", name="uq_environment_state_repo_env"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    repo: Mapped[str] = mapped_column(String(200))
    env_key: Mapped[str] = mapped_column(String(100))  # casefolded: one tool's Production
    environment: Mapped[str] = mapped_column(String(100))  # as the winning deploy wrote it
    sha: Mapped[str] = mapped_column(String(40))
    since: Mapped[datetime] = mapped_column(UTCDateTime)
    by: Mapped[str | None] = mapped_column(String(100))
    url: Mapped[str | None] = mapped_column(String(500))
    card_id: Mapped[int | None] = mapped_column(ForeignKey("cards.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CommitRange(Base):
    """GitHub's comparison of two commits, which never changes: kept, not asked again."""

    __tablename__ = "commit_ranges"
    __table_args__ = (UniqueConstraint("repo", "base", "head", name="uq_commit_ranges_pair"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    repo: Mapped[str] = mapped_column(String(200))
    base: Mapped[str] = mapped_column(String(40))
    head: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(16))  # ahead | behind | identical | diverged
    ahead_by: Mapped[int] = mapped_column(Integer, default=0)
    behind_by: Mapped[int] = mapped_column(Integer, default=0)
    # The first commits head has over base, oldest first: {sha, message, pulls: [...]}.
    commits: Mapped[list[dict[str, Any]]] = mapped_column(JSONDoc, default=list)
    pulls_resolved: Mapped[bool] = mapped_column(Boolean, default=False)  # commits know PRs
    fetched_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
