from __future__ import annotations

import pytest

from switchyard.store import Database
from switchyard.store.blobs import StoredBlob
from switchyard.store.files import FileRepository, UploadStateError

T0 = 1_700_000_000.0


def blob(n: int, size: int = 10) -> StoredBlob:
    return StoredBlob(key=f"{n:032x}", size=size, sha256="0" * 64, md5="0" * 32)


@pytest.fixture
def repo(database: Database) -> FileRepository:
    return FileRepository(database)


async def test_create_get_delete_with_owner_isolation(repo: FileRepository) -> None:
    created = await repo.create("alice", filename="a.txt", purpose="assistants", blob=blob(1, 42),
                                mime_type="text/plain", now=T0 + 0.5)
    assert created.id.startswith("file-") and len(created.id) > 20
    assert (created.bytes, created.created_at, created.expires_at, created.status) == (42, int(T0), None, "processed")
    assert (created.filename, created.purpose, created.mime_type, created.blob_key) == (
        "a.txt", "assistants", "text/plain", blob(1).key)
    assert await repo.get(created.id, "alice") == created
    assert await repo.get(created.id, "bob") is None
    assert await repo.delete(created.id, "bob") is None
    assert await repo.get(created.id, "alice") == created
    assert await repo.delete(created.id, "alice") == created
    assert await repo.get(created.id, "alice") is None
    assert await repo.delete(created.id, "alice") is None


async def test_list_filters_orders_and_pages(repo: FileRepository) -> None:
    made = []
    for n in range(5):
        purpose = "batch" if n % 2 else "assistants"
        made.append(await repo.create("alice", filename=f"{n}.txt", purpose=purpose, blob=blob(n),
                                      mime_type="text/plain", now=T0 + n / 1000))  # same second
    await repo.create("bob", filename="x", purpose="assistants", blob=blob(9), mime_type="text/plain", now=T0)
    ids = [f.id for f in made]

    page, more = await repo.list("alice")
    assert [f.id for f in page] == ids[::-1] and more is False
    page, more = await repo.list("alice", order="asc", limit=2)
    assert [f.id for f in page] == ids[:2] and more is True
    page, more = await repo.list("alice", order="asc", limit=2, after=ids[1])
    assert [f.id for f in page] == ids[2:4] and more is True
    page, more = await repo.list("alice", order="desc", after=ids[2])
    assert [f.id for f in page] == [ids[1], ids[0]] and more is False
    page, _ = await repo.list("alice", purpose="batch", order="asc")
    assert [f.id for f in page] == [ids[1], ids[3]]
    assert await repo.list("alice", after="file-unknown") == ([], False)
    bob_file = (await repo.list("bob"))[0][0]
    assert await repo.list("alice", after=bob_file.id) == ([], False)


async def test_expired_files_are_missing_then_purged(repo: FileRepository) -> None:
    short = await repo.create("alice", filename="s", purpose="batch", blob=blob(1), mime_type="text/plain",
                              expires_after=3600, now=T0)
    kept = await repo.create("alice", filename="k", purpose="batch", blob=blob(2), mime_type="text/plain",
                             now=T0)
    assert short.expires_at == int(T0) + 3600
    assert await repo.get(short.id, "alice", now=T0 + 3599) == short
    assert await repo.get(short.id, "alice", now=T0 + 3600) is None
    assert [f.id for f in (await repo.list("alice", now=T0 + 4000))[0]] == [kept.id]
    assert await repo.delete(short.id, "alice", now=T0 + 4000) is None
    assert await repo.purge_expired(now=T0 + 10) == []
    assert await repo.purge_expired(now=T0 + 4000) == [blob(1).key]
    assert await repo.get(short.id, "alice", now=T0) is None
    assert await repo.get(kept.id, "alice", now=T0 + 10**9) == kept


async def test_upload_parts_complete_into_a_file(repo: FileRepository) -> None:
    upload = await repo.create_upload("alice", filename="big.bin", purpose="assistants", bytes=30,
                                      mime_type="application/octet-stream", file_expires_after=7200, now=T0)
    assert upload.id.startswith("upload_") and upload.status == "pending"
    assert upload.expires_at == int(T0) + 3600
    assert await repo.get_upload(upload.id, "bob") is None
    assert await repo.add_part(upload.id, "bob", blob(1), now=T0) is None
    parts = [await repo.add_part(upload.id, "alice", blob(n), now=T0 + n) for n in (1, 2, 3)]
    assert all(p is not None and p.id.startswith("part_") for p in parts)
    with pytest.raises(UploadStateError, match="exceed"):
        await repo.add_part(upload.id, "alice", blob(4, size=1), now=T0)
    assert [p.id for p in await repo.parts(upload.id, "alice")] == [p.id for p in parts if p]
    assert await repo.parts(upload.id, "bob") == []

    assert await repo.complete(upload.id, "bob", blob(7, 30), now=T0 + 5) is None
    done = await repo.complete(upload.id, "alice", blob(7, 30), now=T0 + 5)
    assert done is not None
    completed, file, leftover = done
    assert completed.status == "completed" and completed.file_id == file.id
    assert (file.bytes, file.filename, file.blob_key, file.expires_at) == (30, "big.bin", blob(7).key,
                                                                           int(T0) + 5 + 7200)
    assert sorted(leftover) == [blob(n).key for n in (1, 2, 3)]
    assert await repo.parts(upload.id, "alice") == []
    assert await repo.get(file.id, "alice", now=T0 + 5) == file
    with pytest.raises(UploadStateError, match="completed"):
        await repo.complete(upload.id, "alice", blob(8, 30), now=T0 + 6)
    with pytest.raises(UploadStateError, match="completed"):
        await repo.cancel(upload.id, "alice", now=T0 + 6)


async def test_cancel_and_expiry_of_uploads(repo: FileRepository) -> None:
    upload = await repo.create_upload("alice", filename="f", purpose="batch", bytes=10, mime_type="text/plain",
                                      now=T0)
    await repo.add_part(upload.id, "alice", blob(1, 5), now=T0)
    assert await repo.cancel(upload.id, "bob", now=T0) is None
    done = await repo.cancel(upload.id, "alice", now=T0)
    assert done is not None and done[0].status == "cancelled" and done[1] == [blob(1).key]
    with pytest.raises(UploadStateError, match="cancelled"):
        await repo.add_part(upload.id, "alice", blob(2, 5), now=T0)

    stale = await repo.create_upload("alice", filename="f", purpose="batch", bytes=10, mime_type="text/plain",
                                     now=T0)
    await repo.add_part(stale.id, "alice", blob(3, 5), now=T0)
    assert (await repo.get_upload(stale.id, "alice", now=T0 + 3600)).status == "expired"  # type: ignore[union-attr]
    with pytest.raises(UploadStateError, match="expired"):
        await repo.add_part(stale.id, "alice", blob(4, 5), now=T0 + 3600)
    with pytest.raises(UploadStateError, match="expired"):
        await repo.complete(stale.id, "alice", blob(5, 5), now=T0 + 3600)
    assert sorted(await repo.purge_expired(now=T0 + 3600)) == [blob(3).key]
    assert await repo.get_upload(stale.id, "alice") is None
    assert await repo.get_upload(upload.id, "alice") is None
