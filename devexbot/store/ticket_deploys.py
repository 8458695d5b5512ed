"""The `ticket_deploys` table: a commit that reached an environment, whose tickets and those
of the commits it brought over what was live there before (`base`) are owed the deploy's
comments and transitions. Ingest adds the row; the ticket updates' worker asks GitHub what
lies between `base` and `sha` and enqueues the `ticket_updates`, once per deploy."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from devexbot.store.models import Base, UTCDateTime, utcnow


class TicketDeploy(Base):
    __tablename__ = "ticket_deploys"
    __table_args__ = (
        UniqueConstraint("repo", "env_key", "sha", name="uq_ticket_deploys_deploy"),
        Index("ix_ticket_deploys_due", "state", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    repo: Mapped[str] = mapped_column(String(200))
    env_key: Mapped[str] = mapped_column(String(100))  # the environment, case-folded
    environment: Mapped[str] = mapped_column(String(100))  # as the deploy named it
    sha: Mapped[str] = mapped_column(String(40))  # the commit deployed
    base: Mapped[str] = mapped_column(String(40))  # the commit live there before
    url: Mapped[str | None] = mapped_column(Text)  # where to try it
    card_id: Mapped[int | None] = mapped_column(ForeignKey("cards.id", ondelete="SET NULL"))
    state: Mapped[str] = mapped_column(String(24), default="pending")  # pending|done|failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
