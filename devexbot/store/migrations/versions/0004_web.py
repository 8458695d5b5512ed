"""Index cards.changed_at: the web workspace polls it for changed cards

Revision ID: 0003_web
Revises: 0003_actions
"""

from __future__ import annotations

from alembic import op

revision = "0003_web"
down_revision = "0003_actions"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("cards", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_cards_changed_at"), ["changed_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("cards", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cards_changed_at"))
