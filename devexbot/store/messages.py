"""A card's Slack messages beyond its first (which the card's own row holds)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from devexbot.store.models import Base, UTCDateTime, utcnow


class CardMessage(Base):
    """A card's message in one more channel: a commit that several routes take has one
    message per channel, the first on the card itself and the others here."""

    __tablename__ = "card_messages"
    __table_args__ = (
        UniqueConstraint("card_id", "route_channel", name="uq_card_messages_card_route"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    card_id: Mapped[int] = mapped_column(ForeignKey("cards.id", ondelete="CASCADE"))
    route_channel: Mapped[str] = mapped_column(String(100))  # as the route named it
    channel: Mapped[str] = mapped_column(String(100))  # as Slack knows it: its ID once posted
    ts: Mapped[str | None] = mapped_column(String(32))
    # A reply in this thread: its PR's message there (`per: pull_request`).
    thread_ts: Mapped[str | None] = mapped_column(String(32))
    render_hash: Mapped[str | None] = mapped_column(String(64))  # what it shows
    # As on the card: set before chat.postMessage, cleared when its ts is stored.
    post_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
