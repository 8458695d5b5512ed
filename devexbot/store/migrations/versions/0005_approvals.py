"""Approval decisions: who approved or rejected which request

Revision ID: 0004_approvals
Revises: 0003_web
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_approvals"
down_revision = "0003_web"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "approvals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request", sa.String(length=400), nullable=False),
        sa.Column("repo", sa.String(length=200), nullable=False),
        sa.Column("sha", sa.String(length=40), nullable=False),
        sa.Column("environment", sa.String(length=100), nullable=False),
        sa.Column("slack_user", sa.String(length=32), nullable=False),
        sa.Column("github_login", sa.String(length=100), nullable=True),
        sa.Column("decision", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_approvals")),
        sa.UniqueConstraint("request", "slack_user", name="uq_approvals_request_slack_user"),
    )


def downgrade() -> None:
    op.drop_table("approvals")
