"""A card's messages in further channels: a commit several routes take has one message
per channel

Revision ID: 0013_card_messages
Revises: 0012_repo_merge_settings
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013_card_messages"
down_revision = "0012_repo_merge_settings"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "card_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("card_id", sa.Integer(), nullable=False),
        sa.Column("route_channel", sa.String(length=100), nullable=False),
        sa.Column("channel", sa.String(length=100), nullable=False),
        sa.Column("ts", sa.String(length=32), nullable=True),
        sa.Column("render_hash", sa.String(length=64), nullable=True),
        sa.Column("post_started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["card_id"], ["cards.id"],
                                name=op.f("fk_card_messages_card_id_cards"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_card_messages")),
        sa.UniqueConstraint("card_id", "route_channel", name="uq_card_messages_card_route"),
    )
    with op.batch_alter_table("cards") as batch_op:
        batch_op.add_column(sa.Column("slack_route_channel", sa.String(length=100),
                                      nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("cards") as batch_op:
        batch_op.drop_column("slack_route_channel")
    op.drop_table("card_messages")
