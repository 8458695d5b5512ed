"""Keys the bot makes for itself when none is configured (the web sessions' signing key),
kept in the database so every replica signs alike and a restart keeps sessions

Revision ID: 0015_signing_keys
Revises: 0014_seen_requests
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015_signing_keys"
down_revision = "0014_seen_requests"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "signing_keys",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("key", sa.String(length=128), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_signing_keys")),
    )


def downgrade() -> None:
    op.drop_table("signing_keys")
