"""Images served by URL: owned by one project, gone once expired, purged with their blob keys."""

from __future__ import annotations

from switchyard.store import Database
from switchyard.store.blobs import StoredBlob
from switchyard.store.images import ImageRepository

T0 = 1_700_000_000.0


def blob(n: int, size: int = 10) -> StoredBlob:
    return StoredBlob(key=f"{n:032x}", size=size, sha256="0" * 64, md5="0" * 32)


async def test_owner_isolation_expiry_and_purge(database: Database) -> None:
    repo = ImageRepository(database)
    made = await repo.create("proj_a", blob(1, 42), "image/png", 3600, now=T0)
    other = await repo.create("proj_b", blob(2), "image/webp", 60, now=T0)
    assert made.id.startswith("img_") and (made.bytes, made.expires_at, made.mime_type) == (42, T0 + 3600, "image/png")
    assert await repo.get(made.id, "proj_a", now=T0 + 1) == made
    assert await repo.get(made.id, "proj_b", now=T0 + 1) is None
    assert await repo.get(made.id, None, now=T0 + 1) == made  # a verified link names no owner
    assert await repo.get(made.id, "proj_a", now=T0 + 3600) is None  # expired reads as missing
    assert await repo.purge_expired(now=T0 + 61) == [blob(2).key]
    assert await repo.get(other.id, None, now=T0) is None
    assert await repo.purge_expired(now=T0 + 3600) == [blob(1).key]
    assert await repo.purge_expired(now=T0 + 9999) == []
