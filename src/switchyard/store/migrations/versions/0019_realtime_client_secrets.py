"""The Realtime API's ephemeral client secrets (``POST /v1/realtime/client_secrets``):
the secret's SHA-256, its caller, the session it opens, and when it expires.

Revision ID: 0019
Revises: 0017
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | None = "0017"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "realtime_client_secrets",
        sa.Column("secret_hash", sa.String(64), nullable=False),
        sa.Column("owner_id", sa.String(128), nullable=False),
        sa.Column("caller", sa.JSON(), nullable=False),
        sa.Column("session", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("expires_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("secret_hash", name="pk_realtime_client_secrets"),
    )
    op.create_index("ix_realtime_client_secrets_expires_at", "realtime_client_secrets", ["expires_at"])


def downgrade() -> None:
    op.drop_index("ix_realtime_client_secrets_expires_at", table_name="realtime_client_secrets")
    op.drop_table("realtime_client_secrets")
