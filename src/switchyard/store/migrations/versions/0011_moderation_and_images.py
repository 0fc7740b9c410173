"""A project's moderation guardrail (mode, model, categories) and the images the Images
API serves back by URL.

Revision ID: 0011
Revises: 0009
Create Date: 2025-01-11
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0009"
branch_labels: str | None = None
depends_on: str | None = None

PROJECT_COLUMNS = (
    ("moderation_mode", sa.String(16)),
    ("moderation_model", sa.String(256)),
    ("moderation_categories", sa.JSON()),
)


def upgrade() -> None:
    with op.batch_alter_table("projects") as batch:
        for name, type_ in PROJECT_COLUMNS:
            batch.add_column(sa.Column(name, type_, nullable=True))
    op.create_table(
        "generated_images",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("owner_id", sa.String(128), nullable=False),
        sa.Column("mime_type", sa.String(64), nullable=False),
        sa.Column("bytes", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("expires_at", sa.BigInteger(), nullable=False),
        sa.Column("blob_key", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_generated_images"),
    )
    op.create_index("ix_generated_images_expires_at", "generated_images", ["expires_at"])


def downgrade() -> None:
    op.drop_index("ix_generated_images_expires_at", table_name="generated_images")
    op.drop_table("generated_images")
    with op.batch_alter_table("projects") as batch:
        for name, _ in reversed(PROJECT_COLUMNS):
            batch.drop_column(name)
