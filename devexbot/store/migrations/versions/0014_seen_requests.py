"""The Slack requests taken, by the key they are remembered by: a replayed request is
answered once, on every replica

Revision ID: 0014_seen_requests
Revises: 0013_card_messages
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014_seen_requests"
down_revision = "0013_card_messages"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "seen_requests",
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_seen_requests")),
    )
    op.create_index("ix_seen_requests_seen_at", "seen_requests", ["seen_at"])


def downgrade() -> None:
    op.drop_index("ix_seen_requests_seen_at", table_name="seen_requests")
    op.drop_table("seen_requests")
