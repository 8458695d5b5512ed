"""Which base branches take pull requests only through GitHub's merge queue, for the card's
"Add to merge queue" button

Revision ID: 0018_branch_queue_rules
Revises: 0017_catchup
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018_branch_queue_rules"
down_revision = "0017_catchup"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "branch_queue_rules",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("repo", sa.String(length=200), nullable=False),
        sa.Column("branch", sa.String(length=255), nullable=False),
        sa.Column("required", sa.Boolean(), nullable=True),
        sa.Column("fetched_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_branch_queue_rules")),
        sa.UniqueConstraint("repo", "branch", name="uq_branch_queue_rules_repo_branch"),
    )


def downgrade() -> None:
    op.drop_table("branch_queue_rules")
