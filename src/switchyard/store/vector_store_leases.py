"""The ingestion queue of vector store files: a file is claimed with a lease, and its
chunks are written together with its ``completed`` status in one transaction guarded
by that lease, so a file is indexed exactly once even if an ingester dies halfway and
another redoes it. For the ingester only."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, delete, or_, select, update

from switchyard.store.database import Database
from switchyard.store.models import utcnow
from switchyard.store.pgvector_schema import ensure_hnsw
from switchyard.store.vector_store_inserts import insert_chunks
from switchyard.store.vector_store_models import (
    VectorStoreChunk,
    VectorStoreFile,
)
from switchyard.store.vector_store_records import (
    ErrorCode,
    NewChunk,
    VectorStoreFileRecord,
    bump_version,
    file_key,
    file_record,
)


class IngestionLeases:
    def __init__(self, db: Database) -> None:
        self._db = db

    # -- ingestion (the ingester only) ---------------------------------------

    async def claim_file(self, worker_id: str, lease_seconds: float, *,
                         now: datetime | None = None) -> VectorStoreFileRecord | None:
        """Takes the oldest ``in_progress`` file that no live lease holds (never claimed,
        released, or its ingester's lease ran out): leased to ``worker_id``, ``attempts``
        + 1. No two workers get the same file (``SKIP LOCKED`` / SQLite's write lock)."""
        now = now or utcnow()
        claimable = and_(
            VectorStoreFile.status == "in_progress",
            or_(VectorStoreFile.lease_until.is_(None), VectorStoreFile.lease_until < now),
        )
        # A materialised CTE runs once; an IN (subquery) may be rescanned by PostgreSQL,
        # and with SKIP LOCKED a rescan can pick a second row.
        pick = (
            select(VectorStoreFile.vector_store_id, VectorStoreFile.file_id).where(claimable)
            .order_by(VectorStoreFile.created_us, VectorStoreFile.file_id).limit(1)
            .with_for_update(skip_locked=True)
            .cte("pick").prefix_with("MATERIALIZED")
        )
        statement = (
            update(VectorStoreFile)
            .where(VectorStoreFile.vector_store_id == pick.c.vector_store_id,
                   VectorStoreFile.file_id == pick.c.file_id, claimable)
            .values(worker_id=worker_id, lease_until=now + timedelta(seconds=lease_seconds),
                    attempts=VectorStoreFile.attempts + 1)
            .returning(VectorStoreFile).execution_options(synchronize_session=False)
        )
        async with self._db.session() as session:
            row = (await session.scalars(statement)).one_or_none()
            return None if row is None else file_record(row)

    async def take_file(self, vector_store_id: str, file_id: str, worker_id: str, lease_seconds: float, *,
                        now: datetime | None = None) -> VectorStoreFileRecord | None:
        """The file leased to ``worker_id`` as ``claim_file`` would lease it, if it is
        ``in_progress`` and no live lease holds it (a job queue handed it to this worker)."""
        now = now or utcnow()
        statement = (
            update(VectorStoreFile)
            .where(file_key(vector_store_id, file_id), VectorStoreFile.status == "in_progress",
                   or_(VectorStoreFile.lease_until.is_(None), VectorStoreFile.lease_until < now))
            .values(worker_id=worker_id, lease_until=now + timedelta(seconds=lease_seconds),
                    attempts=VectorStoreFile.attempts + 1)
            .returning(VectorStoreFile).execution_options(synchronize_session=False)
        )
        async with self._db.session() as session:
            row = (await session.scalars(statement)).one_or_none()
            return None if row is None else file_record(row)

    async def unfinished_files(self) -> list[tuple[str, str]]:
        """``(vector_store_id, file_id)`` of every file still to index, oldest first."""
        query = (select(VectorStoreFile.vector_store_id, VectorStoreFile.file_id)
                 .where(VectorStoreFile.status == "in_progress")
                 .order_by(VectorStoreFile.created_us, VectorStoreFile.file_id))
        async with self._db.session(read_only=True) as session:
            return [(row[0], row[1]) for row in await session.execute(query)]

    async def file_in_progress(self, vector_store_id: str, file_id: str) -> bool:
        query = select(VectorStoreFile.status).where(file_key(vector_store_id, file_id))
        async with self._db.session(read_only=True) as session:
            return await session.scalar(query) == "in_progress"

    def _held(self, vector_store_id: str, file_id: str, worker_id: str) -> ColumnElement[bool]:
        return and_(file_key(vector_store_id, file_id), VectorStoreFile.worker_id == worker_id,
                    VectorStoreFile.status == "in_progress")

    async def renew_file_lease(self, vector_store_id: str, file_id: str, worker_id: str, lease_seconds: float, *,
                               now: datetime | None = None) -> bool:
        """Extends the lease; False when the worker should stop (file cancelled,
        detached, or taken over after its lease ran out)."""
        statement = (
            update(VectorStoreFile).where(self._held(vector_store_id, file_id, worker_id))
            .values(lease_until=(now or utcnow()) + timedelta(seconds=lease_seconds))
            .execution_options(synchronize_session=False)
        )
        async with self._db.session() as session:
            return bool((await session.execute(statement)).rowcount)  # type: ignore[attr-defined]

    async def release_file(self, vector_store_id: str, file_id: str, worker_id: str) -> bool:
        """Gives the file back unfinished (an ingester stopping), for any worker to claim now."""
        statement = (
            update(VectorStoreFile).where(self._held(vector_store_id, file_id, worker_id))
            .values(worker_id=None, lease_until=None).execution_options(synchronize_session=False)
        )
        async with self._db.session() as session:
            return bool((await session.execute(statement)).rowcount)  # type: ignore[attr-defined]

    async def complete_file(self, vector_store_id: str, file_id: str, worker_id: str,
                            chunks: Sequence[NewChunk]) -> bool:
        """In one transaction: the file becomes ``completed`` with ``usage_bytes`` (text
        and vector bytes of its chunks), any chunks left from an earlier attempt go, the
        new ``chunks`` (numbered from 0) go in with the file's attributes, and the
        store's version moves on. False, writing nothing, if the worker no longer holds
        the file."""
        usage = sum(len(chunk.text.encode()) + len(chunk.embedding) for chunk in chunks)
        if self._db.pgvector is not None and chunks:
            await ensure_hnsw(self._db.engine, self._db.pgvector, len(chunks[0].embedding) // 4)
        claim = (
            update(VectorStoreFile).where(self._held(vector_store_id, file_id, worker_id))
            .values(status="completed", usage_bytes=usage, last_error=None, worker_id=None, lease_until=None)
            .returning(VectorStoreFile.attributes).execution_options(synchronize_session=False)
        )
        async with self._db.session() as session:
            attributes = (await session.execute(claim)).scalar_one_or_none()
            if attributes is None:
                return False
            await session.execute(delete(VectorStoreChunk).where(
                VectorStoreChunk.vector_store_id == vector_store_id, VectorStoreChunk.file_id == file_id))
            version = await bump_version(session, vector_store_id)
            rows = [
                {"vector_store_id": vector_store_id, "file_id": file_id, "chunk_index": index, "text": chunk.text,
                 "tokens": chunk.tokens, "embedding": chunk.embedding, "attributes": attributes, "version": version}
                for index, chunk in enumerate(chunks)
            ]
            await insert_chunks(session, self._db.pgvector, rows)
            return True

    async def fail_file(self, vector_store_id: str, file_id: str, worker_id: str, code: ErrorCode,
                        message: str) -> bool:
        """The file ends ``failed`` with ``last_error``; False if the worker no longer holds it."""
        statement = (
            update(VectorStoreFile).where(self._held(vector_store_id, file_id, worker_id))
            .values(status="failed", last_error={"code": code, "message": message}, worker_id=None,
                    lease_until=None)
            .execution_options(synchronize_session=False)
        )
        async with self._db.session() as session:
            return bool((await session.execute(statement)).rowcount)  # type: ignore[attr-defined]
