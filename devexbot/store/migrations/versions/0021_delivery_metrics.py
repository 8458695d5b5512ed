"""Delivery metrics: the deploys that ended in each environment, each commit's first deploy
there, and the reverts and hotfixes seen

Revision ID: 0021_delivery_metrics
Revises: 0020_person_prefs
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0021_delivery_metrics"
down_revision = "0020_person_prefs"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "deploy_records",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("repo", sa.String(length=200), nullable=False),
        sa.Column("env_key", sa.String(length=100), nullable=False),
        sa.Column("environment", sa.String(length=100), nullable=False),
        sa.Column("sha", sa.String(length=40), nullable=False),
        sa.Column("succeeded", sa.Boolean(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("base", sa.String(length=40), nullable=True),
        sa.Column("rollback", sa.Boolean(), nullable=False),
        sa.Column("carried", sa.String(length=16), nullable=False),
        sa.Column("url", sa.String(length=500), nullable=True),
        sa.Column("card_id", sa.Integer(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["card_id"], ["cards.id"],
                                name=op.f("fk_deploy_records_card_id_cards"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deploy_records")),
        sa.UniqueConstraint("repo", "env_key", "sha", "succeeded", "at",
                            name="uq_deploy_records_deploy"),
    )
    op.create_index("ix_deploy_records_env_at", "deploy_records", ["repo", "env_key", "at"])
    op.create_index("ix_deploy_records_at", "deploy_records", ["at"])
    op.create_index("ix_deploy_records_commit", "deploy_records", ["repo", "sha"])
    op.create_table(
        "shipped_commits",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("repo", sa.String(length=200), nullable=False),
        sa.Column("env_key", sa.String(length=100), nullable=False),
        sa.Column("sha", sa.String(length=40), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=True),
        sa.Column("first_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deployed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deploy_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["deploy_id"], ["deploy_records.id"],
                                name=op.f("fk_shipped_commits_deploy_id_deploy_records"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shipped_commits")),
        sa.UniqueConstraint("repo", "env_key", "sha", name="uq_shipped_commits_commit"),
    )
    op.create_index("ix_shipped_commits_env_at", "shipped_commits",
                    ["repo", "env_key", "deployed_at"])
    op.create_table(
        "change_signals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("repo", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("ref", sa.String(length=40), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reverts_sha", sa.String(length=40), nullable=True),
        sa.Column("reverts_title", sa.String(length=200), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_change_signals")),
        sa.UniqueConstraint("repo", "kind", "ref", name="uq_change_signals_signal"),
    )
    op.create_index("ix_change_signals_repo_at", "change_signals", ["repo", "at"])


def downgrade() -> None:
    op.drop_index("ix_change_signals_repo_at", table_name="change_signals")
    op.drop_table("change_signals")
    op.drop_index("ix_shipped_commits_env_at", table_name="shipped_commits")
    op.drop_table("shipped_commits")
    op.drop_index("ix_deploy_records_commit", table_name="deploy_records")
    op.drop_index("ix_deploy_records_at", table_name="deploy_records")
    op.drop_index("ix_deploy_records_env_at", table_name="deploy_records")
    op.drop_table("deploy_records")
