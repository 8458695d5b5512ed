"""A pull request's one message per channel, for routes with `per: pull_request`."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from devexbot.store.models import Base, UTCDateTime, utcnow


class PullRequestMessage(Base):
    """The top-level message of a pull request in one channel: it shows the card of the
    head commit `head_sha` (the newest head its flushes have seen, as of `head_at`); the
    earlier heads' cards are replies in its thread (their `thread_ts` is its `ts`)."""

    __tablename__ = "pr_messages"
    __table_args__ = (
        UniqueConstraint("repo", "number", "route_channel", name="uq_pr_messages_pr_route"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    repo: Mapped[str] = mapped_column(String(200))
    number: Mapped[int] = mapped_column(Integer)
    route_channel: Mapped[str] = mapped_column(String(100))  # as the route named it
    channel: Mapped[str] = mapped_column(String(100))  # as Slack knows it: its ID
    ts: Mapped[str | None] = mapped_column(String(32))  # None while its post is under way
    head_sha: Mapped[str] = mapped_column(String(40))
    head_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
