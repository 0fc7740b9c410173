"""Images made by the Images API and served back by URL. Each belongs to a project
(another project's id reads as missing) and expires with its URL; ``purge_expired``
removes the rows and returns their blob keys for the blob store to delete."""

from __future__ import annotations

import time
from dataclasses import dataclass

from sqlalchemy import delete, select

from switchyard.store.blobs import StoredBlob
from switchyard.store.database import Database
from switchyard.store.ids import new_id
from switchyard.store.image_models import GeneratedImage


@dataclass(frozen=True, slots=True)
class ImageRecord:
    id: str
    owner_id: str
    mime_type: str
    bytes: int
    created_at: int
    expires_at: int
    blob_key: str


def _record(row: GeneratedImage) -> ImageRecord:
    return ImageRecord(row.id, row.owner_id, row.mime_type, row.bytes, row.created_at, row.expires_at,
                       row.blob_key)


class ImageRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def create(self, owner_id: str, blob: StoredBlob, mime_type: str, ttl_seconds: int,
                     *, now: float | None = None) -> ImageRecord:
        moment = int(time.time() if now is None else now)
        row = GeneratedImage(id=new_id("img_"), owner_id=owner_id, mime_type=mime_type, bytes=blob.size,
                             created_at=moment, expires_at=moment + ttl_seconds, blob_key=blob.key)
        async with self._db.session() as session:
            session.add(row)
        return _record(row)

    async def get(self, image_id: str, owner_id: str | None, *, now: float | None = None) -> ImageRecord | None:
        """The live image; ``owner_id`` None skips the owner check (a signed URL was verified)."""
        moment = int(time.time() if now is None else now)
        query = select(GeneratedImage).where(GeneratedImage.id == image_id, GeneratedImage.expires_at > moment)
        if owner_id is not None:
            query = query.where(GeneratedImage.owner_id == owner_id)
        async with self._db.session(read_only=True) as session:
            row = (await session.scalars(query)).one_or_none()
            return None if row is None else _record(row)

    async def purge_expired(self, *, now: float | None = None) -> list[str]:
        moment = int(time.time() if now is None else now)
        async with self._db.session() as session:
            return list(await session.scalars(
                delete(GeneratedImage).where(GeneratedImage.expires_at <= moment).returning(GeneratedImage.blob_key)
                .execution_options(synchronize_session=False)))
