"""Catch-up from GitHub's webhook delivery log: each watched hook's position, and the
redeliveries the bot asked for

Revision ID: 0017_catchup
Revises: 0016_delivery_traces
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017_catchup"
down_revision = "0016_delivery_traces"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "catchup_hooks",
        sa.Column("hook", sa.String(length=200), nullable=False),
        sa.Column("position", sa.BigInteger(), nullable=True),
        sa.Column("last_run_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_complete_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resume_after", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("hook", name=op.f("pk_catchup_hooks")),
    )
    op.create_table(
        "catchup_asks",
        sa.Column("guid", sa.String(length=200), nullable=False),
        sa.Column("hook", sa.String(length=200), nullable=False),
        sa.Column("logged_id", sa.BigInteger(), nullable=False),
        sa.Column("asked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("guid", name=op.f("pk_catchup_asks")),
    )
    op.create_index("ix_catchup_asks_hook", "catchup_asks", ["hook"])


def downgrade() -> None:
    op.drop_index("ix_catchup_asks_hook", table_name="catchup_asks")
    op.drop_table("catchup_asks")
    op.drop_table("catchup_hooks")
