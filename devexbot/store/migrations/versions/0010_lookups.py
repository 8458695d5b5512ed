"""Cards remember the version their lookups (tickets, deploy contents, failure logs) last
looked at, and the lease of the replica looking now

Revision ID: 0010_lookups
Revises: 0007_claim_owner
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010_lookups"
down_revision = "0007_claim_owner"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("cards") as batch_op:
        batch_op.add_column(sa.Column("looked_up_version", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("lookup_until", sa.DateTime(timezone=True),
                                      nullable=True))
    # The cards there are already show what they show: only news makes a lookup due.
    op.execute("UPDATE cards SET looked_up_version = version")


def downgrade() -> None:
    with op.batch_alter_table("cards") as batch_op:
        batch_op.drop_column("lookup_until")
        batch_op.drop_column("looked_up_version")
