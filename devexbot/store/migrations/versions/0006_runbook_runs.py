"""Runbook runs (the audit trail) and their concurrency slots

Revision ID: 0003_runbooks
Revises: 0004_approvals
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0003_runbooks"
down_revision = "0004_approvals"
branch_labels = None
depends_on = None

JSONDoc = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "runbook_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("command", sa.String(length=64), nullable=False),
        sa.Column("executor", sa.String(length=16), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("user_name", sa.String(length=100), nullable=True),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("channel_name", sa.String(length=100), nullable=True),
        sa.Column("args", JSONDoc, nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("exit_code", sa.Integer(), nullable=True),
        sa.Column("output_tail", sa.Text(), nullable=True),
        sa.Column("url", sa.String(length=500), nullable=True),
        sa.Column("slack_channel", sa.String(length=32), nullable=True),
        sa.Column("slack_ts", sa.String(length=32), nullable=True),
        sa.Column("slack_reply_ts", sa.String(length=32), nullable=True),
        sa.Column("rerun_of", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_runbook_runs")),
    )
    op.create_index("ix_runbook_runs_command_created", "runbook_runs",
                    ["command", "created_at"], unique=False)
    op.create_index(op.f("ix_runbook_runs_created_at"), "runbook_runs", ["created_at"],
                    unique=False)
    op.create_index(op.f("ix_runbook_runs_status"), "runbook_runs", ["status"], unique=False)
    op.create_table(
        "runbook_slots",
        sa.Column("command", sa.String(length=64), nullable=False),
        sa.Column("slot", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["run_id"], ["runbook_runs.id"],
                                name=op.f("fk_runbook_slots_run_id_runbook_runs"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("command", "slot", name=op.f("pk_runbook_slots")),
        sa.UniqueConstraint("run_id", name=op.f("uq_runbook_slots_run_id")),
    )


def downgrade() -> None:
    op.drop_table("runbook_slots")
    op.drop_index(op.f("ix_runbook_runs_status"), table_name="runbook_runs")
    op.drop_index(op.f("ix_runbook_runs_created_at"), table_name="runbook_runs")
    op.drop_index("ix_runbook_runs_command_created", table_name="runbook_runs")
    op.drop_table("runbook_runs")
