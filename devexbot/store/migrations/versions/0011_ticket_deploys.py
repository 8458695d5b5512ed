"""A deploy updates every ticket it brings, once per ticket and environment: the deploys
whose carried tickets are still to be worked out, and a deploy's comment and transition
unique per (ticket, environment, kind)

Revision ID: 0011_ticket_deploys
Revises: 0010_lookups
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011_ticket_deploys"
down_revision = "0010_lookups"
branch_labels = None
depends_on = None

DEPLOY_UPDATE = sa.text("kind IN ('comment', 'transition')")


def upgrade() -> None:
    op.create_table(
        "ticket_deploys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("repo", sa.String(length=200), nullable=False),
        sa.Column("env_key", sa.String(length=100), nullable=False),
        sa.Column("environment", sa.String(length=100), nullable=False),
        sa.Column("sha", sa.String(length=40), nullable=False),
        sa.Column("base", sa.String(length=40), nullable=False),
        sa.Column("url", sa.Text(), nullable=True),
        sa.Column("card_id", sa.Integer(), nullable=True),
        sa.Column("state", sa.String(length=24), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["card_id"], ["cards.id"],
                                name=op.f("fk_ticket_deploys_card_id_cards"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ticket_deploys")),
        sa.UniqueConstraint("repo", "env_key", "sha", name="uq_ticket_deploys_deploy"),
    )
    op.create_index("ix_ticket_deploys_due", "ticket_deploys", ["state", "next_attempt_at"])
    # Until now a ticket was owed a deploy's comment per commit: of the rows of one ticket,
    # environment and kind, the first stays (the one Jira got first), the later go.
    op.execute(
        "DELETE FROM ticket_updates WHERE kind IN ('comment', 'transition') AND id NOT IN ("
        " SELECT MIN(id) FROM ticket_updates WHERE kind IN ('comment', 'transition')"
        " GROUP BY ticket, environment, kind)")
    op.create_index("uq_ticket_updates_deploy", "ticket_updates",
                    ["ticket", "environment", "kind"], unique=True,
                    sqlite_where=DEPLOY_UPDATE, postgresql_where=DEPLOY_UPDATE)


def downgrade() -> None:
    op.drop_index("uq_ticket_updates_deploy", table_name="ticket_updates")
    op.drop_index("ix_ticket_deploys_due", table_name="ticket_deploys")
    op.drop_table("ticket_deploys")
