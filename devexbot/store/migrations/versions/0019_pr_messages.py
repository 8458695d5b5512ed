"""Routes and subscriptions filter by author and may post one message per pull request

Revision ID: 0019_pr_messages
Revises: 0018_branch_queue_rules
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0019_pr_messages"
down_revision = "0018_branch_queue_rules"
branch_labels = None
depends_on = None


def _json() -> sa.types.TypeEngine[Any]:
    return sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("subscriptions") as batch_op:
        batch_op.add_column(sa.Column("exclude_authors", _json(), nullable=False,
                                      server_default=sa.text("'[]'")))
        batch_op.add_column(sa.Column("only_authors", _json(), nullable=False,
                                      server_default=sa.text("'[]'")))
        batch_op.add_column(sa.Column("per", sa.String(length=20), nullable=False,
                                      server_default="commit"))
    with op.batch_alter_table("cards") as batch_op:
        batch_op.add_column(sa.Column("slack_thread_ts", sa.String(length=32), nullable=True))
    with op.batch_alter_table("card_messages") as batch_op:
        batch_op.add_column(sa.Column("thread_ts", sa.String(length=32), nullable=True))
    op.create_table(
        "pr_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("repo", sa.String(length=200), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("route_channel", sa.String(length=100), nullable=False),
        sa.Column("channel", sa.String(length=100), nullable=False),
        sa.Column("ts", sa.String(length=32), nullable=True),
        sa.Column("head_sha", sa.String(length=40), nullable=False),
        sa.Column("head_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pr_messages")),
        sa.UniqueConstraint("repo", "number", "route_channel", name="uq_pr_messages_pr_route"),
    )


def downgrade() -> None:
    op.drop_table("pr_messages")
    with op.batch_alter_table("card_messages") as batch_op:
        batch_op.drop_column("thread_ts")
    with op.batch_alter_table("cards") as batch_op:
        batch_op.drop_column("slack_thread_ts")
    with op.batch_alter_table("subscriptions") as batch_op:
        for column in ("per", "only_authors", "exclude_authors"):
            batch_op.drop_column(column)
