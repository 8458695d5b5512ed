"""The scheduler: APScheduler's job store and the last result of each job

Revision ID: 0006_scheduler
Revises: 0003_runbooks
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_scheduler"
down_revision = "0003_runbooks"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # The columns of APScheduler 3's SQLAlchemyJobStore: it finds the table and uses it.
    op.create_table(
        "scheduler_jobs",
        sa.Column("id", sa.Unicode(length=191), nullable=False),
        sa.Column("next_run_time", sa.Float(precision=25), nullable=True),
        sa.Column("job_state", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scheduler_jobs")),
    )
    with op.batch_alter_table("scheduler_jobs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_scheduler_jobs_next_run_time"), ["next_run_time"],
                              unique=False)
    op.create_table(
        "scheduler_results",
        sa.Column("job_id", sa.String(length=191), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("result", sa.String(length=16), nullable=False),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("runner", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("job_id", name=op.f("pk_scheduler_results")),
    )


def downgrade() -> None:
    op.drop_table("scheduler_results")
    with op.batch_alter_table("scheduler_jobs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_scheduler_jobs_next_run_time"))
    op.drop_table("scheduler_jobs")
