"""Each reply claim names the thread it goes to, so that a reply whose answer was lost can
be looked for there

Revision ID: 0022_reply_threads
Revises: 0021_delivery_metrics
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0022_reply_threads"
down_revision = "0021_delivery_metrics"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("notifications") as batch:
        batch.add_column(sa.Column("thread_ts", sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("notifications") as batch:
        batch.drop_column("thread_ts")
