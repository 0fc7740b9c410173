"""Vector stores, the files attached to them, and file batches.

Methods take ``owner_id`` and treat another owner's store, file or batch as missing
(None / False). ``status``, ``file_counts`` and ``usage_bytes`` are computed from
the file rows on every read, so they tell the truth while ingestion runs. The
ingestion queue (``claim_file`` … ``fail_file``) is in ``vector_store_leases.py``,
the records in ``vector_store_records.py``, chunks and search in
``vector_store_chunks.py``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row, and_, delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from switchyard.store.cursor_pages import cursor_page
from switchyard.store.database import Database
from switchyard.store.ids import new_id
from switchyard.store.vector_store_leases import IngestionLeases
from switchyard.store.vector_store_models import (
    VectorStore,
    VectorStoreBatch,
    VectorStoreBatchMember,
    VectorStoreChunk,
    VectorStoreFile,
)
from switchyard.store.vector_store_records import (
    DAY,
    UNSET,
    ErrorCode,
    FileBatchRecord,
    FileCounts,
    NewChunk,
    NewFile,
    Order,
    VectorStoreFileRecord,
    VectorStoreRecord,
    bump_version,
    clock,
    file_key,
    file_record,
)

__all__ = [  # the records live in vector_store_records; importers find them here too
    "UNSET", "ErrorCode", "FileBatchRecord", "FileCounts", "NewChunk", "NewFile", "VectorStoreFileRecord",
    "VectorStoreRecord", "VectorStoreRepository",
]


# a ``VectorStore`` as the ORM loads it, or a Core row of ``_STORE_COLUMNS`` (search's hot path)
_StoreRow = VectorStore | Row[Any]

_STORE_COLUMNS = (VectorStore.id, VectorStore.owner_id, VectorStore.name, VectorStore.metadata_.label("metadata_"),
                  VectorStore.embedding_model, VectorStore.expires_after_days, VectorStore.last_active_at,
                  VectorStore.created_at, VectorStore.version)


def _expires_at(row: _StoreRow) -> int | None:
    return None if row.expires_after_days is None else row.last_active_at + row.expires_after_days * DAY


def _store(row: _StoreRow, counts: dict[str, int], usage: int, now: int) -> VectorStoreRecord:
    file_counts = FileCounts.of(counts)
    expires_at = _expires_at(row)
    if expires_at is not None and expires_at <= now:
        status = "expired"
    else:
        status = "in_progress" if file_counts.in_progress else "completed"
    days = row.expires_after_days
    return VectorStoreRecord(
        id=row.id, owner_id=row.owner_id, name=row.name, metadata=row.metadata_, status=status,
        file_counts=file_counts, usage_bytes=usage,
        expires_after=None if days is None else {"anchor": "last_active_at", "days": days},
        expires_at=expires_at, last_active_at=row.last_active_at, created_at=row.created_at,
        embedding_model=row.embedding_model, version=row.version,
    )


def _batch_status(cancelled: bool, counts: FileCounts) -> str:
    if cancelled:
        return "cancelled"
    if counts.in_progress:
        return "in_progress"
    if counts.total and counts.failed == counts.total:
        return "failed"
    return "completed"


async def _file_stats(session: AsyncSession, store_ids: Sequence[str]) -> dict[str, tuple[dict[str, int], int]]:
    query = (
        select(VectorStoreFile.vector_store_id, VectorStoreFile.status, func.count(),
               func.coalesce(func.sum(VectorStoreFile.usage_bytes), 0))
        .where(VectorStoreFile.vector_store_id.in_(store_ids))
        .group_by(VectorStoreFile.vector_store_id, VectorStoreFile.status)
    )
    stats: dict[str, tuple[dict[str, int], int]] = {id: ({}, 0) for id in store_ids}
    for store_id, status, count, usage in await session.execute(query):
        counts, total = stats[store_id]
        counts[status] = int(count)
        stats[store_id] = (counts, total + int(usage))
    return stats


async def _stores(session: AsyncSession, rows: Sequence[VectorStore], now: int) -> list[VectorStoreRecord]:
    stats = await _file_stats(session, [row.id for row in rows])
    return [_store(row, *stats[row.id], now) for row in rows]


async def _batch(session: AsyncSession, row: VectorStoreBatch) -> FileBatchRecord:
    members = list(await session.scalars(
        select(VectorStoreBatchMember.file_id).where(VectorStoreBatchMember.batch_id == row.id)
        .order_by(VectorStoreBatchMember.file_id)
    ))
    query = (
        select(VectorStoreFile.status, func.count())
        .join(VectorStoreBatchMember, and_(VectorStoreBatchMember.file_id == VectorStoreFile.file_id,
                                           VectorStoreBatchMember.batch_id == row.id))
        .where(VectorStoreFile.vector_store_id == row.vector_store_id)
        .group_by(VectorStoreFile.status)
    )
    counts = FileCounts.of({status: int(n) for status, n in await session.execute(query)})
    return FileBatchRecord(
        id=row.id, vector_store_id=row.vector_store_id, owner_id=row.owner_id,
        status=_batch_status(row.cancelled, counts), file_counts=counts, file_ids=members, created_at=row.created_at,
    )


def _file_row(store_id: str, owner_id: str, new: NewFile, now: float) -> dict[str, Any]:
    return {
        "vector_store_id": store_id, "file_id": new.file_id, "owner_id": owner_id, "filename": new.filename,
        "status": "in_progress", "last_error": None, "attributes": dict(new.attributes),
        "chunking_strategy": new.chunking_strategy, "usage_bytes": 0, "created_at": int(now),
        "created_us": int(now * 1_000_000), "worker_id": None, "lease_until": None, "attempts": 0,
    }


async def _attach(session: AsyncSession, store_id: str, owner_id: str, files: Sequence[NewFile],
                  now: float) -> None:
    """(Re)attaches ``files`` as new ``in_progress`` rows; a file already attached
    loses its old row and chunks (foreign-key cascade) first."""
    ids = [new.file_id for new in files]
    removed = await session.execute(
        delete(VectorStoreFile)
        .where(VectorStoreFile.vector_store_id == store_id, VectorStoreFile.file_id.in_(ids))
        .execution_options(synchronize_session=False)
    )
    if removed.rowcount:  # type: ignore[attr-defined]
        await bump_version(session, store_id)
    await session.execute(insert(VectorStoreFile), [_file_row(store_id, owner_id, new, now) for new in files])
    await session.execute(
        update(VectorStore).where(VectorStore.id == store_id).values(last_active_at=int(now))
        .execution_options(synchronize_session=False)
    )


class VectorStoreRepository(IngestionLeases):
    """The API's view of vector stores, files and batches; the ingestion methods come
    from ``IngestionLeases``."""

    def __init__(self, db: Database) -> None:
        self._db = db

    # -- vector stores --------------------------------------------------------

    async def create(self, owner_id: str, *, name: str = "", metadata: dict[str, Any] | None = None,
                     expires_after_days: int | None = None, embedding_model: str | None = None,
                     files: Sequence[NewFile] = (), now: float | None = None) -> VectorStoreRecord:
        """A new ``vs_…``, with ``files`` attached (``in_progress``) in the same transaction."""
        moment = clock(now)
        row = VectorStore(
            id=new_id("vs_"), owner_id=owner_id, name=name, metadata_=dict(metadata or {}),
            embedding_model=embedding_model, expires_after_days=expires_after_days,
            last_active_at=int(moment), created_at=int(moment), created_us=int(moment * 1_000_000), version=0,
        )
        async with self._db.session() as session:
            session.add(row)
            await session.flush()
            if files:
                await _attach(session, row.id, owner_id, files, moment)
            return (await _stores(session, [row], int(moment)))[0]

    async def get(self, id: str, owner_id: str, *, now: float | None = None) -> VectorStoreRecord | None:
        async with self._db.session() as session:
            query = select(VectorStore).where(VectorStore.id == id, VectorStore.owner_id == owner_id)
            row = await session.scalar(query)
            return None if row is None else (await _stores(session, [row], int(clock(now))))[0]

    async def get_many(self, ids: Sequence[str], owner_id: str, *, now: float | None = None,
                       file_counts: bool = True) -> dict[str, VectorStoreRecord]:
        """The owner's stores among ``ids``, by id (missing ones are left out). Without
        ``file_counts`` (a search, which needs the stores' versions and expiry only) the
        files are not counted: their counts are zero and the status is ``completed`` or
        ``expired``."""
        where = (VectorStore.id.in_(list(ids)), VectorStore.owner_id == owner_id)
        if not file_counts:  # on search's hot path: a Core read, no session
            async with self._db.reading() as conn:
                found = (await conn.execute(select(*_STORE_COLUMNS).where(*where))).all()
            moment = int(clock(now))
            return {row.id: _store(row, {}, 0, moment) for row in found}
        async with self._db.session(read_only=True) as session:
            rows = list(await session.scalars(select(VectorStore).where(*where)))
            return {record.id: record for record in await _stores(session, rows, int(clock(now)))}

    async def list(self, owner_id: str, *, limit: int = 20, order: Order = "desc", after: str | None = None,
                   before: str | None = None, now: float | None = None) -> tuple[list[VectorStoreRecord], bool]:
        """A page of the owner's stores (newest first for ``desc``) and whether more
        follow; an ``after``/``before`` id the owner does not have gives ``([], False)``."""
        async with self._db.session() as session:
            rows, more = await cursor_page(
                session, VectorStore, (VectorStore.created_us, VectorStore.id), [VectorStore.owner_id == owner_id],
                cursor_where=lambda id: and_(VectorStore.id == id, VectorStore.owner_id == owner_id),
                limit=limit, order=order, after=after, before=before,
            )
            return await _stores(session, rows, int(clock(now))), more

    async def update(self, id: str, owner_id: str, *, name: str = UNSET, metadata: dict[str, Any] = UNSET,
                     expires_after_days: int | None = UNSET, now: float | None = None) -> VectorStoreRecord | None:
        """Sets the fields given (``expires_after_days=None`` removes the expiry) and
        marks the store active."""
        moment = clock(now)
        values: dict[str, Any] = {"last_active_at": int(moment)}
        if name is not UNSET:
            values["name"] = name
        if metadata is not UNSET:
            values["metadata_"] = dict(metadata)
        if expires_after_days is not UNSET:
            values["expires_after_days"] = expires_after_days
        statement = (
            update(VectorStore).where(VectorStore.id == id, VectorStore.owner_id == owner_id).values(**values)
            .returning(VectorStore).execution_options(synchronize_session=False)
        )
        async with self._db.session() as session:
            row = (await session.scalars(statement)).one_or_none()
            return None if row is None else (await _stores(session, [row], int(moment)))[0]

    async def touch(self, ids: Sequence[str], owner_id: str, *, now: float | None = None) -> None:
        """Marks the stores active (``last_active_at``), as a search does."""
        statement = (
            update(VectorStore).where(VectorStore.id.in_(list(ids)), VectorStore.owner_id == owner_id)
            .values(last_active_at=int(clock(now))).execution_options(synchronize_session=False)
        )
        async with self._db.session() as session:
            await session.execute(statement)

    async def delete(self, id: str, owner_id: str) -> bool:
        """Removes the store with its files, batches and chunks (the uploaded files stay)."""
        statement = delete(VectorStore).where(VectorStore.id == id, VectorStore.owner_id == owner_id)
        async with self._db.session() as session:
            return bool((await session.execute(statement)).rowcount)  # type: ignore[attr-defined]

    async def _owned(self, session: AsyncSession, id: str, owner_id: str) -> bool:
        query = select(VectorStore.id).where(VectorStore.id == id, VectorStore.owner_id == owner_id)
        return await session.scalar(query) is not None

    # -- files ---------------------------------------------------------------

    async def add_file(self, vector_store_id: str, owner_id: str, new: NewFile, *,
                       now: float | None = None) -> VectorStoreFileRecord | None:
        """Attaches a file (``in_progress``, for the ingester); re-attaching a file starts
        it over. None if the owner has no such store."""
        moment = clock(now)
        async with self._db.session() as session:
            if not await self._owned(session, vector_store_id, owner_id):
                return None
            await _attach(session, vector_store_id, owner_id, [new], moment)
            row = await session.scalar(select(VectorStoreFile).where(file_key(vector_store_id, new.file_id)))
            assert row is not None
            return file_record(row)

    async def get_file(self, vector_store_id: str, file_id: str, owner_id: str) -> VectorStoreFileRecord | None:
        query = select(VectorStoreFile).where(file_key(vector_store_id, file_id), VectorStoreFile.owner_id == owner_id)
        async with self._db.session() as session:
            row = await session.scalar(query)
            return None if row is None else file_record(row)

    async def list_files(self, vector_store_id: str, owner_id: str, *, status: str | None = None,
                         batch_id: str | None = None, limit: int = 20, order: Order = "desc",
                         after: str | None = None, before: str | None = None,
                         ) -> tuple[list[VectorStoreFileRecord], bool] | None:
        """A page of the store's files (optionally of one batch, with one status) and
        whether more follow; None if the owner has no such store (or batch)."""
        where: list[Any] = [VectorStoreFile.vector_store_id == vector_store_id, VectorStoreFile.owner_id == owner_id]
        if status is not None:
            where.append(VectorStoreFile.status == status)
        async with self._db.session() as session:
            if not await self._owned(session, vector_store_id, owner_id):
                return None
            if batch_id is not None:
                if await self._batch_row(session, vector_store_id, batch_id, owner_id) is None:
                    return None
                where.append(VectorStoreFile.file_id.in_(
                    select(VectorStoreBatchMember.file_id).where(VectorStoreBatchMember.batch_id == batch_id)))
            rows, more = await cursor_page(
                session, VectorStoreFile, (VectorStoreFile.created_us, VectorStoreFile.file_id), where,
                cursor_where=lambda id: file_key(vector_store_id, id),
                limit=limit, order=order, after=after, before=before,
            )
            return [file_record(row) for row in rows], more

    async def update_file_attributes(self, vector_store_id: str, file_id: str, owner_id: str,
                                     attributes: dict[str, Any]) -> VectorStoreFileRecord | None:
        """Replaces the file's attributes, on its chunks too (filters see them at once), and
        moves the store's version on (a search keeps the files a filter matched per version)."""
        statement = (
            update(VectorStoreFile)
            .where(file_key(vector_store_id, file_id), VectorStoreFile.owner_id == owner_id)
            .values(attributes=dict(attributes)).returning(VectorStoreFile)
            .execution_options(synchronize_session=False)
        )
        async with self._db.session() as session:
            row = (await session.scalars(statement)).one_or_none()
            if row is None:
                return None
            await session.execute(
                update(VectorStoreChunk)
                .where(VectorStoreChunk.vector_store_id == vector_store_id, VectorStoreChunk.file_id == file_id)
                .values(attributes=dict(attributes)).execution_options(synchronize_session=False)
            )
            await bump_version(session, vector_store_id)
            return file_record(row)

    async def delete_file(self, vector_store_id: str, file_id: str, owner_id: str) -> bool:
        """Detaches the file and drops its chunks (the uploaded file stays)."""
        statement = delete(VectorStoreFile).where(file_key(vector_store_id, file_id),
                                                  VectorStoreFile.owner_id == owner_id)
        async with self._db.session() as session:
            if not (await session.execute(statement)).rowcount:  # type: ignore[attr-defined]
                return False
            await bump_version(session, vector_store_id)
            return True

    # -- file batches --------------------------------------------------------

    async def create_batch(self, vector_store_id: str, owner_id: str, files: Sequence[NewFile], *,
                           now: float | None = None) -> FileBatchRecord | None:
        """A new ``vsfb_…`` attaching ``files`` (distinct ids, at least one); None if the
        owner has no such store."""
        if not files:
            raise ValueError("a file batch needs at least one file")
        if len({new.file_id for new in files}) != len(files):
            raise ValueError("a file batch cannot name a file twice")
        moment = clock(now)
        row = VectorStoreBatch(id=new_id("vsfb_"), vector_store_id=vector_store_id, owner_id=owner_id,
                               cancelled=False, created_at=int(moment))
        async with self._db.session() as session:
            if not await self._owned(session, vector_store_id, owner_id):
                return None
            session.add(row)
            await session.flush()
            await session.execute(insert(VectorStoreBatchMember),
                                  [{"batch_id": row.id, "file_id": new.file_id} for new in files])
            await _attach(session, vector_store_id, owner_id, files, moment)
            return await _batch(session, row)

    async def _batch_row(self, session: AsyncSession, vector_store_id: str, batch_id: str,
                         owner_id: str) -> VectorStoreBatch | None:
        return await session.scalar(select(VectorStoreBatch).where(
            VectorStoreBatch.id == batch_id, VectorStoreBatch.vector_store_id == vector_store_id,
            VectorStoreBatch.owner_id == owner_id))

    async def get_batch(self, vector_store_id: str, batch_id: str, owner_id: str) -> FileBatchRecord | None:
        async with self._db.session() as session:
            row = await self._batch_row(session, vector_store_id, batch_id, owner_id)
            return None if row is None else await _batch(session, row)

    async def cancel_batch(self, vector_store_id: str, batch_id: str, owner_id: str) -> FileBatchRecord | None:
        """Cancels a batch still in progress: its files not yet done become ``cancelled``
        (an ingester working on one drops its work). A finished batch is returned as is."""
        cancelled = await self.cancel_batch_files(vector_store_id, batch_id, owner_id)
        return None if cancelled is None else cancelled[0]

    async def cancel_batch_files(self, vector_store_id: str, batch_id: str, owner_id: str
                                 ) -> tuple[FileBatchRecord, Sequence[str]] | None:
        """``cancel_batch``, with the ids of the files it cancelled (to tell their ingesters)."""
        async with self._db.session() as session:
            row = await self._batch_row(session, vector_store_id, batch_id, owner_id)
            if row is None:
                return None
            if (await _batch(session, row)).status != "in_progress":
                return await _batch(session, row), []
            members = select(VectorStoreBatchMember.file_id).where(VectorStoreBatchMember.batch_id == batch_id)
            cancelled = await session.scalars(
                update(VectorStoreFile)
                .where(VectorStoreFile.vector_store_id == vector_store_id, VectorStoreFile.file_id.in_(members),
                       VectorStoreFile.status == "in_progress")
                .values(status="cancelled", worker_id=None, lease_until=None)
                .returning(VectorStoreFile.file_id)
                .execution_options(synchronize_session=False)
            )
            file_ids = [str(file_id) for file_id in cancelled]
            row.cancelled = True
            await session.flush()
            return await _batch(session, row), file_ids
