"""Tickets and environments: ticket info cache, ticket update jobs, what is live where,
and kept commit comparisons

Revision ID: 0005_tickets
Revises: 0006_scheduler
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0005_tickets"
down_revision = "0006_scheduler"
branch_labels = None
depends_on = None

JSONDoc = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "ticket_info",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=120), nullable=False),
        sa.Column("title", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=100), nullable=True),
        sa.Column("found", sa.Boolean(), nullable=False),
        sa.Column("fetched_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ticket_info")),
        sa.UniqueConstraint("key", name="uq_ticket_info_key"),
    )
    op.create_table(
        "ticket_updates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket", sa.String(length=120), nullable=False),
        sa.Column("environment", sa.String(length=100), nullable=False),
        sa.Column("sha", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("repo", sa.String(length=200), nullable=False),
        sa.Column("card_id", sa.Integer(), nullable=True),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("transition", sa.String(length=100), nullable=True),
        sa.Column("state", sa.String(length=24), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["card_id"], ["cards.id"],
                                name=op.f("fk_ticket_updates_card_id_cards"), ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ticket_updates")),
        sa.UniqueConstraint("ticket", "environment", "sha", "kind", name="uq_ticket_updates_job"),
    )
    with op.batch_alter_table("ticket_updates", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ticket_updates_card_id"), ["card_id"], unique=False)
        batch_op.create_index("ix_ticket_updates_due", ["state", "next_attempt_at"], unique=False)
    op.create_table(
        "environment_state",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("repo", sa.String(length=200), nullable=False),
        sa.Column("env_key", sa.String(length=100), nullable=False),
        sa.Column("environment", sa.String(length=100), nullable=False),
        sa.Column("sha", sa.String(length=40), nullable=False),
        sa.Column("since", sa.DateTime(timezone=True), nullable=False),
        sa.Column("by", sa.String(length=100), nullable=True),
        sa.Column("url", sa.String(length=500), nullable=True),
        sa.Column("card_id", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["card_id"], ["cards.id"],
                                name=op.f("fk_environment_state_card_id_cards"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_environment_state")),
        sa.UniqueConstraint("repo", "env_key", name="uq_environment_state_repo_env"),
    )
    op.create_table(
        "commit_ranges",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("repo", sa.String(length=200), nullable=False),
        sa.Column("base", sa.String(length=40), nullable=False),
        sa.Column("head", sa.String(length=40), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("ahead_by", sa.Integer(), nullable=False),
        sa.Column("behind_by", sa.Integer(), nullable=False),
        sa.Column("commits", JSONDoc, nullable=False),
        sa.Column("pulls_resolved", sa.Boolean(), nullable=False),
        sa.Column("fetched_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_commit_ranges")),
        sa.UniqueConstraint("repo", "base", "head", name="uq_commit_ranges_pair"),
    )


def downgrade() -> None:
    op.drop_table("commit_ranges")
    op.drop_table("environment_state")
    with op.batch_alter_table("ticket_updates", schema=None) as batch_op:
        batch_op.drop_index("ix_ticket_updates_due")
        batch_op.drop_index(batch_op.f("ix_ticket_updates_card_id"))
    op.drop_table("ticket_updates")
    op.drop_table("ticket_info")
