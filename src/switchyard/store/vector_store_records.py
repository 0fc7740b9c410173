"""Vector store records (frozen dataclasses: no ORM object leaves store/) and the
small row helpers the repository and the ingestion leases share."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Literal

from sqlalchemy import ColumnElement, and_, update
from sqlalchemy.ext.asyncio import AsyncSession

from switchyard.store.vector_store_models import (
    VectorStore,
    VectorStoreFile,
)

Order = Literal["asc", "desc"]
FileStatus = Literal["in_progress", "completed", "cancelled", "failed"]
ErrorCode = Literal["server_error", "unsupported_file", "invalid_file"]
DAY = 86_400
STATUSES = ("in_progress", "completed", "cancelled", "failed")


class _Unset:
    pass


UNSET: Any = _Unset()  # "leave as is" for ``update``


@dataclass(frozen=True, slots=True)
class FileCounts:
    in_progress: int = 0
    completed: int = 0
    failed: int = 0
    cancelled: int = 0
    total: int = 0

    @staticmethod
    def of(by_status: dict[str, int]) -> FileCounts:
        counts = {status: by_status.get(status, 0) for status in STATUSES}
        return FileCounts(**counts, total=sum(counts.values()))


@dataclass(frozen=True, slots=True)
class VectorStoreRecord:
    id: str
    owner_id: str
    name: str
    metadata: dict[str, Any]
    status: str  # in_progress | completed | expired
    file_counts: FileCounts
    usage_bytes: int
    expires_after: dict[str, Any] | None  # {"anchor": "last_active_at", "days": n}
    expires_at: int | None
    last_active_at: int
    created_at: int
    embedding_model: str | None
    version: int  # changes whenever the store's chunks change


@dataclass(frozen=True, slots=True)
class VectorStoreFileRecord:
    id: str  # the file id
    vector_store_id: str
    owner_id: str
    filename: str
    status: str  # in_progress | completed | cancelled | failed
    last_error: dict[str, str] | None  # {"code": ..., "message": ...}
    attributes: dict[str, Any]
    chunking_strategy: dict[str, Any]  # {"type": "static", "static": {...}}
    usage_bytes: int
    created_at: int
    attempts: int


@dataclass(frozen=True, slots=True)
class FileBatchRecord:
    id: str
    vector_store_id: str
    owner_id: str
    status: str  # in_progress | completed | cancelled | failed
    file_counts: FileCounts
    file_ids: list[str]
    created_at: int


@dataclass(frozen=True, slots=True)
class NewFile:
    """A file to attach: ``chunking_strategy`` already validated and normalised."""

    file_id: str
    filename: str
    chunking_strategy: dict[str, Any]
    attributes: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class NewChunk:
    text: str
    tokens: int
    embedding: bytes  # float32 little-endian


def clock(now: float | None) -> float:
    return time.time() if now is None else now


def file_record(row: VectorStoreFile) -> VectorStoreFileRecord:
    return VectorStoreFileRecord(
        id=row.file_id, vector_store_id=row.vector_store_id, owner_id=row.owner_id, filename=row.filename,
        status=row.status, last_error=row.last_error, attributes=row.attributes,
        chunking_strategy=row.chunking_strategy, usage_bytes=row.usage_bytes, created_at=row.created_at,
        attempts=row.attempts,
    )


def file_key(vector_store_id: str, file_id: str) -> ColumnElement[bool]:
    return and_(VectorStoreFile.vector_store_id == vector_store_id, VectorStoreFile.file_id == file_id)


async def bump_version(session: AsyncSession, vector_store_id: str) -> int:
    """Moves the store's version on; the new version (0 if the store is gone)."""
    version = await session.scalar(
        update(VectorStore).where(VectorStore.id == vector_store_id)
        .values(version=VectorStore.version + 1).returning(VectorStore.version)
        .execution_options(synchronize_session=False)
    )
    return int(version or 0)
