"""Cards name the replica holding their outbox claim, so a restart frees its dead claims

Revision ID: 0007_claim_owner
Revises: 0005_tickets
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_claim_owner"
down_revision = "0005_tickets"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("cards") as batch_op:
        batch_op.add_column(sa.Column("claim_owner", sa.String(length=255), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("cards") as batch_op:
        batch_op.drop_column("claim_owner")
