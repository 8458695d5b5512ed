"""Repositories' merge settings as GitHub last showed them, for the Merge button

Revision ID: 0012_repo_merge_settings
Revises: 0011_ticket_deploys
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012_repo_merge_settings"
down_revision = "0011_ticket_deploys"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "repo_merge_settings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("repo", sa.String(length=200), nullable=False),
        sa.Column("allow_merge_commit", sa.Boolean(), nullable=True),
        sa.Column("allow_squash_merge", sa.Boolean(), nullable=True),
        sa.Column("allow_rebase_merge", sa.Boolean(), nullable=True),
        sa.Column("fetched_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_repo_merge_settings")),
        sa.UniqueConstraint("repo", name=op.f("uq_repo_merge_settings_repo")),
    )


def downgrade() -> None:
    op.drop_table("repo_merge_settings")
