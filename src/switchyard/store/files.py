"""Stored files and multi-part uploads (metadata; the bytes are in ``BlobStore``).

Every method the API serves takes ``owner_id`` and treats another owner's object
as missing. A file past its ``expires_at`` is missing too, until ``purge_expired``
removes it. Methods that drop rows return the blob keys that no longer belong to
anything, for the caller to delete from the blob store (rows go first: a crash in
between leaves an unreferenced blob, never a row without its bytes)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import ColumnElement, delete, or_, select, tuple_, update

from switchyard.store.blobs import BlobStore, StoredBlob
from switchyard.store.database import Database
from switchyard.store.files_models import File, Upload, UploadPart
from switchyard.store.ids import new_id

Order = Literal["asc", "desc"]
Keys = list[str]  # aliases: the method ``list`` shadows the builtin in the class body
UPLOAD_TTL_SECONDS = 3600
PENDING = "pending"


@dataclass(frozen=True, slots=True)
class FileRecord:
    id: str
    owner_id: str
    filename: str
    purpose: str
    bytes: int
    mime_type: str
    status: str
    status_details: str | None
    created_at: int
    expires_at: int | None
    blob_key: str
    sha256: str


@dataclass(frozen=True, slots=True)
class UploadRecord:
    id: str
    owner_id: str
    filename: str
    purpose: str
    bytes: int
    received_bytes: int
    mime_type: str
    status: str  # pending | completed | cancelled | expired
    created_at: int
    expires_at: int
    file_expires_after: int | None
    file_id: str | None


@dataclass(frozen=True, slots=True)
class PartRecord:
    id: str
    upload_id: str
    bytes: int
    blob_key: str
    created_at: int


Files = list[FileRecord]
Parts = list[PartRecord]


class UploadStateError(ValueError):
    """The upload cannot take this step in its current state."""

    def __init__(self, upload: UploadRecord, message: str) -> None:
        super().__init__(message)
        self.upload = upload


def _file(row: File) -> FileRecord:
    return FileRecord(
        id=row.id, owner_id=row.owner_id, filename=row.filename, purpose=row.purpose, bytes=row.bytes,
        mime_type=row.mime_type, status=row.status, status_details=row.status_details,
        created_at=row.created_at, expires_at=row.expires_at, blob_key=row.blob_key, sha256=row.sha256,
    )


def _upload(row: Upload, now: int) -> UploadRecord:
    status = "expired" if row.status == PENDING and row.expires_at <= now else row.status
    return UploadRecord(
        id=row.id, owner_id=row.owner_id, filename=row.filename, purpose=row.purpose, bytes=row.bytes,
        received_bytes=row.received_bytes, mime_type=row.mime_type, status=status, created_at=row.created_at,
        expires_at=row.expires_at, file_expires_after=row.file_expires_after, file_id=row.file_id,
    )


def _part(row: UploadPart) -> PartRecord:
    return PartRecord(id=row.id, upload_id=row.upload_id, bytes=row.bytes, blob_key=row.blob_key,
                      created_at=row.created_at)


def _live(now: int) -> ColumnElement[bool]:
    return or_(File.expires_at.is_(None), File.expires_at > now)


def _pending(upload_id: str, owner_id: str, now: int) -> list[ColumnElement[bool]]:
    return [Upload.id == upload_id, Upload.owner_id == owner_id, Upload.status == PENDING, Upload.expires_at > now]


def _new_file_row(owner_id: str, filename: str, purpose: str, blob: StoredBlob, mime_type: str,
                  expires_after: int | None, now: float, id: str | None = None) -> File:
    created_at = int(now)
    return File(
        id=id or new_id("file-"), owner_id=owner_id, filename=filename, purpose=purpose, bytes=blob.size,
        mime_type=mime_type, status="processed", status_details=None, created_at=created_at,
        created_us=int(now * 1_000_000), expires_at=None if expires_after is None else created_at + expires_after,
        blob_key=blob.key, sha256=blob.sha256,
    )


def _clock(now: float | None) -> float:
    return time.time() if now is None else now


class FileRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    # -- files ---------------------------------------------------------------

    async def create(self, owner_id: str, *, filename: str, purpose: str, blob: StoredBlob, mime_type: str,
                     expires_after: int | None = None, now: float | None = None) -> FileRecord:
        """A new ``file-…`` holding the stored ``blob``; it expires ``expires_after``
        seconds after creation when given."""
        row = _new_file_row(owner_id, filename, purpose, blob, mime_type, expires_after, _clock(now))
        async with self._db.session() as session:
            session.add(row)
        return _file(row)

    async def get(self, id: str, owner_id: str, *, now: float | None = None) -> FileRecord | None:
        query = select(File).where(File.id == id, File.owner_id == owner_id, _live(int(_clock(now))))
        async with self._db.session() as session:
            row = await session.scalar(query)
            return None if row is None else _file(row)

    async def list(self, owner_id: str, *, purpose: str | None = None, limit: int = 10000, order: Order = "desc",
                   after: str | None = None, now: float | None = None) -> tuple[Files, bool]:
        """A page of the owner's live files and whether more follow, newest first for
        ``desc``. An ``after`` id the owner does not have gives an empty page."""
        if limit < 1:
            raise ValueError("limit must be at least 1")
        if order not in ("asc", "desc"):
            raise ValueError(f"order must be 'asc' or 'desc', not {order!r}")
        where = [File.owner_id == owner_id, _live(int(_clock(now)))]
        if purpose is not None:
            where.append(File.purpose == purpose)
        key = tuple_(File.created_us, File.id)
        async with self._db.session() as session:
            if after is not None:
                cursor = (await session.execute(
                    select(File.created_us, File.id).where(File.id == after, File.owner_id == owner_id)
                )).one_or_none()
                if cursor is None:
                    return [], False
                where.append(key > tuple_(*cursor) if order == "asc" else key < tuple_(*cursor))
            ordering = (File.created_us.asc(), File.id.asc()) if order == "asc" else (
                File.created_us.desc(), File.id.desc())
            rows = list(await session.scalars(select(File).where(*where).order_by(*ordering).limit(limit + 1)))
        return [_file(row) for row in rows[:limit]], len(rows) > limit

    async def delete(self, id: str, owner_id: str, *, now: float | None = None) -> FileRecord | None:
        """Removes the file's row and returns it (its ``blob_key`` is the caller's to
        delete); None if the owner has no such live file."""
        statement = (
            delete(File)
            .where(File.id == id, File.owner_id == owner_id, _live(int(_clock(now))))
            .returning(File)
            .execution_options(synchronize_session=False)
        )
        async with self._db.session() as session:
            row = (await session.scalars(statement)).one_or_none()
            return None if row is None else _file(row)

    async def purge_expired(self, *, now: float | None = None) -> Keys:
        """Removes expired files and uploads past their hour (with their parts); the
        blob keys they held."""
        moment = int(_clock(now))
        async with self._db.session() as session:
            keys = list(await session.scalars(
                delete(File).where(File.expires_at <= moment).returning(File.blob_key)
                .execution_options(synchronize_session=False)
            ))
            expired = select(Upload.id).where(Upload.expires_at <= moment)
            keys += await session.scalars(
                delete(UploadPart).where(UploadPart.upload_id.in_(expired)).returning(UploadPart.blob_key)
                .execution_options(synchronize_session=False)
            )
            await session.execute(delete(Upload).where(Upload.expires_at <= moment))
        return keys

    # -- uploads -------------------------------------------------------------

    async def create_upload(self, owner_id: str, *, filename: str, purpose: str, bytes: int, mime_type: str,
                            file_expires_after: int | None = None, now: float | None = None,
                            ttl: int = UPLOAD_TTL_SECONDS) -> UploadRecord:
        moment = int(_clock(now))
        row = Upload(
            id=new_id("upload_"), owner_id=owner_id, filename=filename, purpose=purpose, bytes=bytes,
            received_bytes=0, mime_type=mime_type, status=PENDING, created_at=moment, expires_at=moment + ttl,
            file_expires_after=file_expires_after, file_id=None,
        )
        async with self._db.session() as session:
            session.add(row)
        return _upload(row, moment)

    async def get_upload(self, id: str, owner_id: str, *, now: float | None = None) -> UploadRecord | None:
        query = select(Upload).where(Upload.id == id, Upload.owner_id == owner_id)
        async with self._db.session() as session:
            row = await session.scalar(query)
            return None if row is None else _upload(row, int(_clock(now)))

    async def _refuse(self, upload_id: str, owner_id: str, now: int, over: str) -> UploadRecord | None:
        """Why a guarded update on a pending upload matched nothing: None when there is
        no such upload, else an ``UploadStateError``."""
        upload = await self.get_upload(upload_id, owner_id, now=now)
        if upload is None:
            return None
        if upload.status != PENDING:
            raise UploadStateError(upload, f"Upload {upload_id} is {upload.status}, not pending.")
        raise UploadStateError(upload, over)

    async def add_part(self, upload_id: str, owner_id: str, blob: StoredBlob, *,
                       now: float | None = None) -> PartRecord | None:
        """Records ``blob`` as a new ``part_…`` of a pending upload; None if there is no
        such upload. Raises ``UploadStateError`` when the upload is not pending or its
        parts would exceed the declared size."""
        moment = int(_clock(now))
        reserve = (
            update(Upload)
            .where(*_pending(upload_id, owner_id, moment), Upload.received_bytes + blob.size <= Upload.bytes)
            .values(received_bytes=Upload.received_bytes + blob.size)
            .returning(Upload.id)
            .execution_options(synchronize_session=False)
        )
        row = UploadPart(id=new_id("part_"), upload_id=upload_id, bytes=blob.size, blob_key=blob.key,
                         created_at=moment)
        async with self._db.session() as session:
            if await session.scalar(reserve) is not None:
                session.add(row)
                return _part(row)
        await self._refuse(upload_id, owner_id, moment,
                           f"The parts of upload {upload_id} would exceed its declared size in bytes.")
        return None

    async def parts(self, upload_id: str, owner_id: str) -> Parts:
        query = (
            select(UploadPart)
            .join(Upload, Upload.id == UploadPart.upload_id)
            .where(UploadPart.upload_id == upload_id, Upload.owner_id == owner_id)
            .order_by(UploadPart.created_at, UploadPart.id)
        )
        async with self._db.session() as session:
            return [_part(row) for row in await session.scalars(query)]

    async def complete(self, upload_id: str, owner_id: str, blob: StoredBlob, *,
                       now: float | None = None) -> tuple[UploadRecord, FileRecord, Keys] | None:
        """Turns a pending upload into a file holding ``blob`` (the parts, joined by the
        caller); the upload, the file, and the part blob keys now unreferenced. None if
        there is no such upload; ``UploadStateError`` if it is not pending."""
        moment = _clock(now)
        file_id = new_id("file-")
        async with self._db.session() as session:
            upload = (await session.scalars(
                update(Upload).where(*_pending(upload_id, owner_id, int(moment)))
                .values(status="completed", file_id=file_id).returning(Upload)
                .execution_options(synchronize_session=False)
            )).one_or_none()
            if upload is not None:
                file = _new_file_row(owner_id, upload.filename, upload.purpose, blob, upload.mime_type,
                                     upload.file_expires_after, moment, file_id)
                session.add(file)
                keys = list(await session.scalars(
                    delete(UploadPart).where(UploadPart.upload_id == upload_id).returning(UploadPart.blob_key)
                    .execution_options(synchronize_session=False)
                ))
                return _upload(upload, int(moment)), _file(file), keys
        await self._refuse(upload_id, owner_id, int(moment), f"Upload {upload_id} cannot be completed.")
        return None

    async def cancel(self, upload_id: str, owner_id: str, *,
                     now: float | None = None) -> tuple[UploadRecord, Keys] | None:
        """Cancels a pending upload and drops its parts; the upload and their blob
        keys. None if there is no such upload; ``UploadStateError`` if not pending."""
        moment = int(_clock(now))
        async with self._db.session() as session:
            upload = (await session.scalars(
                update(Upload).where(*_pending(upload_id, owner_id, moment))
                .values(status="cancelled").returning(Upload).execution_options(synchronize_session=False)
            )).one_or_none()
            if upload is not None:
                keys = list(await session.scalars(
                    delete(UploadPart).where(UploadPart.upload_id == upload_id).returning(UploadPart.blob_key)
                    .execution_options(synchronize_session=False)
                ))
                return _upload(upload, moment), keys
        await self._refuse(upload_id, owner_id, moment, f"Upload {upload_id} cannot be cancelled.")
        return None




async def purge_expired(files: FileRepository, blobs: BlobStore, *, now: float | None = None) -> int:
    """Removes expired files and stale uploads with their bytes; how many blobs went."""
    keys = await files.purge_expired(now=now)
    await blobs.delete_many(keys)
    return len(keys)
