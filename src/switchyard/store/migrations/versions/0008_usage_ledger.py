"""The usage ledger (request_log, rebuilt: it was never written before) and budgets:
spend per holder and idempotent reservations.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.drop_index("ix_request_log_owner_id_created_at", table_name="request_log")
    op.drop_index("ix_request_log_key_id", table_name="request_log")
    op.drop_table("request_log")
    op.create_table(
        "request_log",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("request_id", sa.String(64), nullable=False),
        sa.Column("owner_id", sa.String(128), nullable=False),
        sa.Column("key_id", sa.String(64), nullable=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("surface", sa.String(64), nullable=False),
        sa.Column("model", sa.String(256), nullable=False),
        sa.Column("deployment", sa.String(256), nullable=True),
        sa.Column("status", sa.Integer(), nullable=True),
        sa.Column("outcome", sa.String(32), nullable=False),
        sa.Column("error_code", sa.String(128), nullable=True),
        sa.Column("model_requests", sa.Integer(), nullable=False),
        sa.Column("input_tokens", sa.Integer(), nullable=False),
        sa.Column("cached_input_tokens", sa.Integer(), nullable=False),
        sa.Column("cache_write_tokens", sa.Integer(), nullable=False),
        sa.Column("output_tokens", sa.Integer(), nullable=False),
        sa.Column("reasoning_tokens", sa.Integer(), nullable=False),
        sa.Column("usage_counted", sa.Boolean(), nullable=False),
        sa.Column("cost_nanousd", sa.BigInteger(), nullable=False),
        sa.Column("latency_ms", sa.Integer(), nullable=False),
        sa.Column("ttft_ms", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_unix", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_request_log"),
    )
    op.create_index("ix_request_log_request_id", "request_log", ["request_id"])
    op.create_index("ix_request_log_key_id", "request_log", ["key_id"])
    op.create_index("ix_request_log_owner_id_created_at", "request_log", ["owner_id", "created_at"])
    op.create_index("ix_request_log_created_unix", "request_log", ["created_unix"])

    op.create_table(
        "budget_spend",
        sa.Column("id", sa.String(200), nullable=False),
        sa.Column("spent_nanousd", sa.BigInteger(), nullable=False),
        sa.Column("reserved_nanousd", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_budget_spend"),
    )
    op.create_table(
        "budget_reservations",
        sa.Column("id", sa.String(200), nullable=False),
        sa.Column("holders", sa.JSON(), nullable=False),
        sa.Column("amount_nanousd", sa.BigInteger(), nullable=False),
        sa.Column("actual_nanousd", sa.BigInteger(), nullable=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_budget_reservations"),
    )
    op.create_index("ix_budget_reservations_created_at", "budget_reservations", ["created_at"])


def downgrade() -> None:
    op.drop_table("budget_reservations")
    op.drop_table("budget_spend")
    op.drop_table("request_log")
    op.create_table(
        "request_log",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("owner_id", sa.String(128), nullable=False),
        sa.Column("key_id", sa.String(64), nullable=True),
        sa.Column("surface", sa.String(64), nullable=False),
        sa.Column("model", sa.String(256), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("input_tokens", sa.Integer(), nullable=False),
        sa.Column("output_tokens", sa.Integer(), nullable=False),
        sa.Column("latency_ms", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_request_log"),
        sa.ForeignKeyConstraint(["key_id"], ["api_keys.id"], name="fk_request_log_key_id_api_keys",
                                ondelete="SET NULL"),
    )
    op.create_index("ix_request_log_key_id", "request_log", ["key_id"])
    op.create_index("ix_request_log_owner_id_created_at", "request_log", ["owner_id", "created_at"])
