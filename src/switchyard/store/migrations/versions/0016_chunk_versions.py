"""Chunks remember the store version that wrote them, so an approximate index kept
outside the database (the embedded default's HNSW graphs) can catch up with a store
incrementally: the rows written since the version it holds, plus the ids that are
gone. (pgvector's column and HNSW indexes are not migrations: they exist only where
the extension does; see ``store/pgvector_schema.py``.)

Revision ID: 0016
Revises: 0015
Create Date: 2025-01-12
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | None = None
depends_on: str | None = None

INDEX = "ix_vector_store_chunks_vector_store_id_version"


def upgrade() -> None:
    op.add_column("vector_store_chunks", sa.Column("version", sa.BigInteger(), nullable=False, server_default="0"))
    op.create_index(INDEX, "vector_store_chunks", ["vector_store_id", "version"])


def downgrade() -> None:
    op.drop_index(INDEX, table_name="vector_store_chunks")
    op.drop_column("vector_store_chunks", "version")  # SQLite >= 3.35 drops in place (the FTS triggers stay)
