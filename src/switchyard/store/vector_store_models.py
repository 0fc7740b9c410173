"""ORM models for vector stores, their files, file batches and chunks.

Chunks hold their embedding as bytes (float32, little-endian, L2-normalised) on both
backends, and the store version that wrote them; every change to a store's chunks
bumps ``vector_stores.version`` (what caches and the embedded HNSW graphs are checked
against). Where PostgreSQL has the pgvector extension, chunks also hold it as the
``vector`` column ``embedding_vector``, with one HNSW index per dimension
(``store/pgvector_schema.py``); those exist outside the ORM and the migrations.

Full-text search lives outside the ORM, created by migration 0004 only:

- SQLite: the FTS5 table ``vector_store_chunks_fts`` (external content over
  ``vector_store_chunks``, ``porter unicode61`` tokenizer), kept in sync by triggers,
  so inserts, deletes and foreign-key cascades update it in the same transaction.
- PostgreSQL: the generated column ``vector_store_chunks.fts``
  (``to_tsvector('english', text)``) with the GIN index ``ix_vector_store_chunks_fts``.

Alembic cannot see those as models; ``alembic_include_name`` tells it to leave them
out of comparisons (pass it as ``include_name`` to ``context.configure``).

API timestamps are integer unix seconds; ``created_us`` orders listings."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from switchyard.store.models import Base, UTCDateTime

FTS_TABLE = "vector_store_chunks_fts"
FTS_COLUMN = "fts"
FTS_INDEX = "ix_vector_store_chunks_fts"
VECTOR_COLUMN = "embedding_vector"  # pgvector only
HNSW_INDEX_PREFIX = "ix_vector_store_chunks_hnsw_"  # + the dimension
ChunkId = BigInteger().with_variant(Integer(), "sqlite")  # INTEGER PRIMARY KEY is SQLite's rowid


JOB_QUEUE_TABLES = "pgqueuer"  # pgqueuer, pgqueuer_log, pgqueuer_statistics, pgqueuer_schedules


def alembic_include_name(name: str | None, type_: str, parent_names: Mapping[str, Any]) -> bool:
    """Alembic ``include_name`` hook: False for the full-text and pgvector objects above
    (the FTS5 table and its shadow tables, the tsvector and vector columns, their indexes),
    and for the job queue's tables (PgQueuer's own, created by migration 0021 on PostgreSQL)."""
    if name is None:
        return True
    if type_ == "table":
        return not name.startswith((FTS_TABLE, JOB_QUEUE_TABLES))
    if type_ == "column":
        return not (parent_names.get("table_name") == "vector_store_chunks" and name in (FTS_COLUMN, VECTOR_COLUMN))
    if type_ == "index":
        return name != FTS_INDEX and not name.startswith(HNSW_INDEX_PREFIX)
    return True


class VectorStore(Base):
    __tablename__ = "vector_stores"
    __table_args__ = (Index(None, "owner_id", "created_us"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    owner_id: Mapped[str] = mapped_column(String(128))
    name: Mapped[str] = mapped_column(String(512))
    metadata_: Mapped[dict[str, Any]] = mapped_column("metadata", JSON)
    embedding_model: Mapped[str | None] = mapped_column(String(256))
    expires_after_days: Mapped[int | None] = mapped_column(Integer)  # anchor: last_active_at
    last_active_at: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[int] = mapped_column(BigInteger)
    created_us: Mapped[int] = mapped_column(BigInteger)
    version: Mapped[int] = mapped_column(BigInteger, default=0)  # bumped on every chunk change


class VectorStoreFile(Base):
    __tablename__ = "vector_store_files"
    __table_args__ = (
        Index(None, "vector_store_id", "created_us"),
        Index(None, "status", "lease_until"),  # the ingestion queue
    )

    vector_store_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("vector_stores.id", ondelete="CASCADE"), primary_key=True
    )
    file_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    owner_id: Mapped[str] = mapped_column(String(128))
    filename: Mapped[str] = mapped_column(String(512))
    status: Mapped[str] = mapped_column(String(16))
    last_error: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    attributes: Mapped[dict[str, Any]] = mapped_column(JSON)
    chunking_strategy: Mapped[dict[str, Any]] = mapped_column(JSON)
    usage_bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[int] = mapped_column(BigInteger)
    created_us: Mapped[int] = mapped_column(BigInteger)
    worker_id: Mapped[str | None] = mapped_column(String(128))
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)


class VectorStoreBatch(Base):
    __tablename__ = "vector_store_batches"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    vector_store_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("vector_stores.id", ondelete="CASCADE"), index=True
    )
    owner_id: Mapped[str] = mapped_column(String(128))
    cancelled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[int] = mapped_column(BigInteger)


class VectorStoreBatchMember(Base):
    __tablename__ = "vector_store_batch_files"

    batch_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("vector_store_batches.id", ondelete="CASCADE"), primary_key=True
    )
    file_id: Mapped[str] = mapped_column(String(64), primary_key=True)


class VectorStoreChunk(Base):
    __tablename__ = "vector_store_chunks"
    __table_args__ = (
        UniqueConstraint("vector_store_id", "file_id", "chunk_index"),
        Index(None, "vector_store_id", "version"),
        ForeignKeyConstraint(
            ["vector_store_id", "file_id"],
            ["vector_store_files.vector_store_id", "vector_store_files.file_id"],
            ondelete="CASCADE",
        ),
    )

    id: Mapped[int] = mapped_column(ChunkId, primary_key=True, autoincrement=True)
    vector_store_id: Mapped[str] = mapped_column(String(64))
    file_id: Mapped[str] = mapped_column(String(64))
    chunk_index: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    tokens: Mapped[int] = mapped_column(Integer)
    embedding: Mapped[bytes] = mapped_column(LargeBinary)  # float32 little-endian, L2-normalised
    attributes: Mapped[dict[str, Any]] = mapped_column(JSON)  # the file's, copied for filtering
    version: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")  # the store's, when written
