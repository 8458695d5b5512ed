"""Routes made from Slack with `/devex subscribe`."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from devexbot.store.models import Base, JSONDoc, UTCDateTime, utcnow


class Subscription(Base):
    """A route made from Slack with `/devex subscribe`: a repo's cards go to a channel."""

    __tablename__ = "subscriptions"
    __table_args__ = (UniqueConstraint("channel", "repo", name="uq_subscriptions_channel_repo"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[str] = mapped_column(String(32))
    repo: Mapped[str] = mapped_column(String(200))
    branches: Mapped[list[str]] = mapped_column(JSONDoc, default=list)
    labels: Mapped[list[str]] = mapped_column(JSONDoc, default=list)
    # Whose cards (GitHub login patterns), and one message per commit or per PR.
    exclude_authors: Mapped[list[str]] = mapped_column(JSONDoc, default=list)
    only_authors: Mapped[list[str]] = mapped_column(JSONDoc, default=list)
    per: Mapped[str] = mapped_column(String(20), default="commit")
    created_by: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
