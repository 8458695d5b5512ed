"""People's notification preferences, the DMs their quiet hours hold, their Home tabs

Revision ID: 0020_person_prefs
Revises: 0019_pr_messages
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0020_person_prefs"
down_revision = "0019_pr_messages"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "person_prefs",
        sa.Column("slack_user", sa.String(length=32), primary_key=True),
        sa.Column("dm_failures", sa.Boolean(), nullable=False),
        sa.Column("dm_reviews", sa.Boolean(), nullable=False),
        sa.Column("mute_own", sa.Boolean(), nullable=False),
        sa.Column("quiet", sa.String(length=11), nullable=True),
        sa.Column("tz", sa.String(length=64), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "held_dms",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("slack_user", sa.String(length=32), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("held_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_held_dms_user", "held_dms", ["slack_user", "id"])
    op.create_table(
        "home_tabs",
        sa.Column("slack_user", sa.String(length=32), primary_key=True),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("wanted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("fingerprint", sa.String(length=64), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("home_tabs")
    op.drop_index("ix_held_dms_user", table_name="held_dms")
    op.drop_table("held_dms")
    op.drop_table("person_prefs")
