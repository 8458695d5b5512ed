"""The tables the delivery metrics read (see `devexbot.store.delivery_records`): the deploys
that ended, each commit's first deploy to an environment, and the reverts and hotfixes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from devexbot.store.models import Base, UTCDateTime, utcnow

MAX_TITLE = 200


class DeployRecord(Base):
    __tablename__ = "deploy_records"
    __table_args__ = (
        UniqueConstraint("repo", "env_key", "sha", "succeeded", "at",
                         name="uq_deploy_records_deploy"),
        Index("ix_deploy_records_env_at", "repo", "env_key", "at"),
        Index("ix_deploy_records_at", "at"),
        Index("ix_deploy_records_commit", "repo", "sha"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    repo: Mapped[str] = mapped_column(String(200))
    env_key: Mapped[str] = mapped_column(String(100))  # casefolded
    environment: Mapped[str] = mapped_column(String(100))  # as the deploy named it
    sha: Mapped[str] = mapped_column(String(40))
    succeeded: Mapped[bool] = mapped_column(Boolean)
    at: Mapped[datetime] = mapped_column(UTCDateTime)  # the event's time
    base: Mapped[str | None] = mapped_column(String(40))  # live before it, if another commit
    rollback: Mapped[bool] = mapped_column(Boolean, default=False)
    carried: Mapped[str] = mapped_column(String(16), default="done")  # pending | done
    url: Mapped[str | None] = mapped_column(String(500))
    card_id: Mapped[int | None] = mapped_column(ForeignKey("cards.id", ondelete="SET NULL"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ShippedCommit(Base):
    __tablename__ = "shipped_commits"
    __table_args__ = (
        UniqueConstraint("repo", "env_key", "sha", name="uq_shipped_commits_commit"),
        Index("ix_shipped_commits_env_at", "repo", "env_key", "deployed_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    repo: Mapped[str] = mapped_column(String(200))
    env_key: Mapped[str] = mapped_column(String(100))
    sha: Mapped[str] = mapped_column(String(40))
    title: Mapped[str | None] = mapped_column(String(MAX_TITLE))  # the message's first line
    first_seen: Mapped[datetime] = mapped_column(UTCDateTime)
    deployed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    deploy_id: Mapped[int] = mapped_column(ForeignKey("deploy_records.id", ondelete="CASCADE"))


class ChangeSignal(Base):
    __tablename__ = "change_signals"
    __table_args__ = (
        UniqueConstraint("repo", "kind", "ref", name="uq_change_signals_signal"),
        Index("ix_change_signals_repo_at", "repo", "at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    repo: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))  # revert | hotfix
    ref: Mapped[str] = mapped_column(String(40))  # the revert's SHA, or "#12"
    at: Mapped[datetime] = mapped_column(UTCDateTime)  # first seen
    reverts_sha: Mapped[str | None] = mapped_column(String(40))
    reverts_title: Mapped[str | None] = mapped_column(String(MAX_TITLE))
