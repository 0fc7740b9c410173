"""Vector stores, their files, file batches, chunks, and full-text search over chunks
(an FTS5 table kept by triggers on SQLite; a generated tsvector column with a GIN
index on PostgreSQL).

Revision ID: 0004
Revises: 0003
Create Date: 2025-01-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | None = None
depends_on: str | None = None

SQLITE_FTS = [
    """CREATE VIRTUAL TABLE vector_store_chunks_fts USING fts5(
        text, content='vector_store_chunks', content_rowid='id',
        tokenize='porter unicode61 remove_diacritics 2')""",
    """CREATE TRIGGER vector_store_chunks_fts_insert AFTER INSERT ON vector_store_chunks BEGIN
        INSERT INTO vector_store_chunks_fts(rowid, text) VALUES (new.id, new.text);
    END""",
    """CREATE TRIGGER vector_store_chunks_fts_delete AFTER DELETE ON vector_store_chunks BEGIN
        INSERT INTO vector_store_chunks_fts(vector_store_chunks_fts, rowid, text) VALUES ('delete', old.id, old.text);
    END""",
    """CREATE TRIGGER vector_store_chunks_fts_update AFTER UPDATE OF text ON vector_store_chunks BEGIN
        INSERT INTO vector_store_chunks_fts(vector_store_chunks_fts, rowid, text) VALUES ('delete', old.id, old.text);
        INSERT INTO vector_store_chunks_fts(rowid, text) VALUES (new.id, new.text);
    END""",
]
POSTGRES_FTS = [
    "ALTER TABLE vector_store_chunks ADD COLUMN fts tsvector"
    " GENERATED ALWAYS AS (to_tsvector('english', text)) STORED",
    "CREATE INDEX ix_vector_store_chunks_fts ON vector_store_chunks USING gin (fts)",
]


def upgrade() -> None:
    op.create_table(
        "vector_stores",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("owner_id", sa.String(128), nullable=False),
        sa.Column("name", sa.String(512), nullable=False),
        sa.Column("metadata", sa.JSON(), nullable=False),
        sa.Column("embedding_model", sa.String(256), nullable=True),
        sa.Column("expires_after_days", sa.Integer(), nullable=True),
        sa.Column("last_active_at", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("created_us", sa.BigInteger(), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_vector_stores"),
    )
    op.create_index("ix_vector_stores_owner_id_created_us", "vector_stores", ["owner_id", "created_us"])

    op.create_table(
        "vector_store_files",
        sa.Column("vector_store_id", sa.String(64), nullable=False),
        sa.Column("file_id", sa.String(64), nullable=False),
        sa.Column("owner_id", sa.String(128), nullable=False),
        sa.Column("filename", sa.String(512), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("last_error", sa.JSON(), nullable=True),
        sa.Column("attributes", sa.JSON(), nullable=False),
        sa.Column("chunking_strategy", sa.JSON(), nullable=False),
        sa.Column("usage_bytes", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("created_us", sa.BigInteger(), nullable=False),
        sa.Column("worker_id", sa.String(128), nullable=True),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("vector_store_id", "file_id", name="pk_vector_store_files"),
        sa.ForeignKeyConstraint(
            ["vector_store_id"], ["vector_stores.id"],
            name="fk_vector_store_files_vector_store_id_vector_stores", ondelete="CASCADE",
        ),
    )
    op.create_index(
        "ix_vector_store_files_vector_store_id_created_us", "vector_store_files", ["vector_store_id", "created_us"]
    )
    op.create_index("ix_vector_store_files_status_lease_until", "vector_store_files", ["status", "lease_until"])

    op.create_table(
        "vector_store_batches",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("vector_store_id", sa.String(64), nullable=False),
        sa.Column("owner_id", sa.String(128), nullable=False),
        sa.Column("cancelled", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_vector_store_batches"),
        sa.ForeignKeyConstraint(
            ["vector_store_id"], ["vector_stores.id"],
            name="fk_vector_store_batches_vector_store_id_vector_stores", ondelete="CASCADE",
        ),
    )
    op.create_index(
        "ix_vector_store_batches_vector_store_id", "vector_store_batches", ["vector_store_id"]
    )

    op.create_table(
        "vector_store_batch_files",
        sa.Column("batch_id", sa.String(64), nullable=False),
        sa.Column("file_id", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("batch_id", "file_id", name="pk_vector_store_batch_files"),
        sa.ForeignKeyConstraint(
            ["batch_id"], ["vector_store_batches.id"],
            name="fk_vector_store_batch_files_batch_id_vector_store_batches", ondelete="CASCADE",
        ),
    )

    op.create_table(
        "vector_store_chunks",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("vector_store_id", sa.String(64), nullable=False),
        sa.Column("file_id", sa.String(64), nullable=False),
        sa.Column("chunk_index", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("tokens", sa.Integer(), nullable=False),
        sa.Column("embedding", sa.LargeBinary(), nullable=False),
        sa.Column("attributes", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_vector_store_chunks"),
        sa.UniqueConstraint(
            "vector_store_id", "file_id", "chunk_index",
            name="uq_vector_store_chunks_vector_store_id_file_id_chunk_index",
        ),
        sa.ForeignKeyConstraint(
            ["vector_store_id", "file_id"],
            ["vector_store_files.vector_store_id", "vector_store_files.file_id"],
            name="fk_vector_store_chunks_vector_store_id_vector_store_files",
            ondelete="CASCADE",
        ),
    )
    for statement in SQLITE_FTS if op.get_bind().dialect.name == "sqlite" else POSTGRES_FTS:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TABLE IF EXISTS vector_store_chunks_fts")  # its triggers go with vector_store_chunks
    op.drop_table("vector_store_chunks")
    op.drop_table("vector_store_batch_files")
    op.drop_table("vector_store_batches")
    op.drop_table("vector_store_files")
    op.drop_table("vector_stores")
