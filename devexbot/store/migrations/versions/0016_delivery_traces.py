"""Deliveries keep their request's trace context, so the flush they cause joins its trace

Revision ID: 0016_delivery_traces
Revises: 0015_signing_keys
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016_delivery_traces"
down_revision = "0015_signing_keys"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("deliveries") as batch_op:
        batch_op.add_column(sa.Column("traceparent", sa.String(length=55), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("deliveries") as batch_op:
        batch_op.drop_column("traceparent")
