"""Assistants runs and their steps, with the lease fields that make a run a durable job.

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "assistant_runs",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("owner_id", sa.String(128), nullable=False),
        sa.Column("thread_id", sa.String(64), nullable=False),
        sa.Column("assistant_id", sa.String(64), nullable=False),
        sa.Column("status", sa.String(24), nullable=False),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.Column("request", sa.JSON(), nullable=False),
        sa.Column("usage", sa.JSON(), nullable=False),
        sa.Column("created_us", sa.BigInteger(), nullable=False),
        sa.Column("expires_at", sa.BigInteger(), nullable=True),
        sa.Column("cancel_requested", sa.Boolean(), nullable=False),
        sa.Column("worker_id", sa.String(64), nullable=True),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_assistant_runs"),
    )
    op.create_index("ix_assistant_runs_owner_id_thread_id_created_us", "assistant_runs",
                    ["owner_id", "thread_id", "created_us"])
    op.create_index("ix_assistant_runs_status", "assistant_runs", ["status"])
    op.create_table(
        "assistant_run_steps",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("run_id", sa.String(64), nullable=False),
        sa.Column("owner_id", sa.String(128), nullable=False),
        sa.Column("thread_id", sa.String(64), nullable=False),
        sa.Column("created_us", sa.BigInteger(), nullable=False),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["run_id"], ["assistant_runs.id"], name="fk_assistant_run_steps_run_id_assistant_runs",
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name="pk_assistant_run_steps"),
    )
    op.create_index("ix_assistant_run_steps_run_id_created_us", "assistant_run_steps", ["run_id", "created_us"])


def downgrade() -> None:
    op.drop_index("ix_assistant_run_steps_run_id_created_us", table_name="assistant_run_steps")
    op.drop_table("assistant_run_steps")
    op.drop_index("ix_assistant_runs_status", table_name="assistant_runs")
    op.drop_index("ix_assistant_runs_owner_id_thread_id_created_us", table_name="assistant_runs")
    op.drop_table("assistant_runs")
