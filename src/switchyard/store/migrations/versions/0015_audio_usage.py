"""The usage ledger keeps what speech requests use beside tokens: seconds of audio
transcribed or translated (as milliseconds) and characters spoken.

Revision ID: 0015
Revises: 0012
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0012"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    with op.batch_alter_table("request_log") as batch:
        batch.add_column(sa.Column("audio_ms", sa.BigInteger(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("characters", sa.BigInteger(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("request_log") as batch:
        batch.drop_column("characters")
        batch.drop_column("audio_ms")
