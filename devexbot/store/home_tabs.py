"""The `home_tabs` table: whose Slack Home tab the bot keeps, what it last published there
(a fingerprint) and when, and whether a refresh is wanted, so refreshes coalesce per
person and keep Slack's pace on every replica."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from devexbot.store.models import Base, UTCDateTime


class HomeTab(Base):
    __tablename__ = "home_tabs"

    slack_user: Mapped[str] = mapped_column(String(32), primary_key=True)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime)
    wanted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # a refresh is owed
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    fingerprint: Mapped[str | None] = mapped_column(String(64))
