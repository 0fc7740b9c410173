from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select, text

from switchyard.retrieval.chunking import static_strategy
from switchyard.store import Database
from switchyard.store.models import utcnow
from switchyard.store.vector_store_chunks import ChunkIndex
from switchyard.store.vector_store_models import VectorStoreChunk
from switchyard.store.vector_stores import FileCounts, NewChunk, NewFile, VectorStoreRepository

VECTOR = b"\x00\x00\x80\x3f" * 4  # (1.0, 1.0, 1.0, 1.0) as float32


def new_file(file_id: str, **attributes: object) -> NewFile:
    return NewFile(file_id, f"{file_id}.txt", static_strategy(), dict(attributes))


async def ingest(repo: VectorStoreRepository, texts: list[str], worker: str = "w1") -> str:
    """Claims the next file and completes it with ``texts`` as its chunks; its id."""
    record = await repo.claim_file(worker, 30)
    assert record is not None
    assert await repo.complete_file(record.vector_store_id, record.id, worker,
                                    [NewChunk(t, 3, VECTOR) for t in texts])
    return record.id


async def test_store_crud_and_isolation(database: Database) -> None:
    repo = VectorStoreRepository(database)
    store = await repo.create("alice", name="docs", metadata={"team": "a"}, expires_after_days=7, now=1000)
    assert store.id.startswith("vs_") and store.status == "completed"
    assert store.file_counts == FileCounts() and store.usage_bytes == 0
    assert store.expires_after == {"anchor": "last_active_at", "days": 7}
    assert store.expires_at == 1000 + 7 * 86400
    assert await repo.get(store.id, "bob") is None
    assert await repo.update(store.id, "bob", name="x") is None
    assert not await repo.delete(store.id, "bob")

    updated = await repo.update(store.id, "alice", name="renamed", expires_after_days=None, now=2000)
    assert updated is not None
    assert (updated.name, updated.metadata, updated.expires_at, updated.last_active_at) == ("renamed", {"team": "a"},
                                                                                            None, 2000)
    assert await repo.delete(store.id, "alice")
    assert await repo.get(store.id, "alice") is None


async def test_expired_store(database: Database) -> None:
    repo = VectorStoreRepository(database)
    store = await repo.create("alice", expires_after_days=1, now=1000)
    expired = await repo.get(store.id, "alice", now=1000 + 86400)
    assert expired is not None and expired.status == "expired"
    await repo.touch([store.id], "alice", now=1000 + 86399)
    alive = await repo.get(store.id, "alice", now=1000 + 86400)
    assert alive is not None and alive.status == "completed"


async def test_list_pages(database: Database) -> None:
    repo = VectorStoreRepository(database)
    ids = [(await repo.create("alice", name=str(i), now=1000 + i)).id for i in range(5)]
    await repo.create("bob")
    page, more = await repo.list("alice", limit=2)
    assert [s.id for s in page] == ids[:2:-1][:2] and more
    page, more = await repo.list("alice", limit=10, order="asc", after=ids[1])
    assert [s.id for s in page] == ids[2:] and not more
    page, more = await repo.list("alice", limit=10, order="asc", before=ids[3])
    assert [s.id for s in page] == ids[:3]
    assert await repo.list("bob", after=ids[0]) == ([], False)


async def test_files_counts_and_usage_follow_the_rows(database: Database) -> None:
    repo = VectorStoreRepository(database)
    store = await repo.create("alice", files=[new_file("file-a"), new_file("file-b"), new_file("file-c")])
    assert store.status == "in_progress" and store.file_counts == FileCounts(in_progress=3, total=3)
    assert await repo.add_file(store.id, "bob", new_file("file-x")) is None

    await ingest(repo, ["one", "two"])
    second = await repo.claim_file("w1", 30)
    assert second is not None
    assert await repo.fail_file(store.id, second.id, "w1", "invalid_file", "broken")
    now = await repo.get(store.id, "alice")
    assert now is not None
    assert now.file_counts == FileCounts(in_progress=1, completed=1, failed=1, total=3)
    assert now.status == "in_progress"
    assert now.usage_bytes == len("one") + len("two") + 2 * len(VECTOR)

    failed = await repo.get_file(store.id, second.id, "alice")
    assert failed is not None and failed.last_error == {"code": "invalid_file", "message": "broken"}
    assert await repo.get_file(store.id, second.id, "bob") is None
    listed = await repo.list_files(store.id, "alice", status="failed")
    assert listed is not None and [f.id for f in listed[0]] == [second.id]
    assert await repo.list_files(store.id, "bob") is None


async def test_attributes_update_reaches_chunks(database: Database) -> None:
    repo = VectorStoreRepository(database)
    store = await repo.create("alice", files=[new_file("file-a", lang="en")])
    await ingest(repo, ["hello"])
    assert await repo.update_file_attributes(store.id, "file-a", "bob", {"lang": "fr"}) is None
    updated = await repo.update_file_attributes(store.id, "file-a", "alice", {"lang": "fr"})
    assert updated is not None and updated.attributes == {"lang": "fr"}
    chunks = await ChunkIndex(database).file_chunks(store.id, "file-a", "alice")
    assert chunks is not None and [c.attributes for c in chunks] == [{"lang": "fr"}]
    assert await ChunkIndex(database).file_chunks(store.id, "file-a", "bob") is None


async def test_delete_file_drops_chunks_and_text_index(database: Database) -> None:
    repo = VectorStoreRepository(database)
    index = ChunkIndex(database)
    store = await repo.create("alice", files=[new_file("file-a"), new_file("file-b")])
    await ingest(repo, ["zebra crossing"])
    await ingest(repo, ["zebra stripes"])
    before = (await repo.get(store.id, "alice")).version  # type: ignore[union-attr]
    assert len(await index.text_search([store.id], ["zebra"])) == 2
    assert not await repo.delete_file(store.id, "file-a", "bob")
    assert await repo.delete_file(store.id, "file-a", "alice")
    assert len(await index.text_search([store.id], ["zebra"])) == 1
    after = await repo.get(store.id, "alice")
    assert after is not None and after.version > before and after.file_counts.total == 1
    assert await repo.delete(store.id, "alice")
    async with database.session() as session:
        assert await session.scalar(select(func.count()).select_from(VectorStoreChunk)) == 0
        if database.dialect == "sqlite":
            hits = await session.scalar(text("SELECT count(*) FROM vector_store_chunks_fts WHERE "
                                             "vector_store_chunks_fts MATCH 'zebra'"))
            assert hits == 0


async def test_reattaching_a_file_starts_it_over(database: Database) -> None:
    repo = VectorStoreRepository(database)
    store = await repo.create("alice", files=[new_file("file-a")])
    await ingest(repo, ["old text"])
    again = await repo.add_file(store.id, "alice", new_file("file-a"))
    assert again is not None and again.status == "in_progress"
    assert await ChunkIndex(database).file_chunks(store.id, "file-a", "alice") == []


async def test_claims_are_exclusive_and_leases_expire(database: Database) -> None:
    repo = VectorStoreRepository(database)
    store = await repo.create("alice", files=[new_file("file-a")])
    first = await repo.claim_file("w1", 30)
    assert first is not None and first.attempts == 1
    assert await repo.claim_file("w2", 30) is None
    later = utcnow() + timedelta(seconds=31)
    second = await repo.claim_file("w2", 30, now=later)
    assert second is not None and second.id == first.id and second.attempts == 2
    # the first worker lost the file: it can neither renew nor complete it
    assert not await repo.renew_file_lease(store.id, first.id, "w1", 30)
    assert not await repo.complete_file(store.id, first.id, "w1", [NewChunk("x", 1, VECTOR)])
    assert await repo.complete_file(store.id, first.id, "w2", [NewChunk("x", 1, VECTOR)])
    assert not await repo.complete_file(store.id, first.id, "w2", [NewChunk("x", 1, VECTOR)])
    chunks = await ChunkIndex(database).file_chunks(store.id, first.id, "alice")
    assert chunks is not None and len(chunks) == 1


async def test_release_lets_another_worker_claim_at_once(database: Database) -> None:
    repo = VectorStoreRepository(database)
    store = await repo.create("alice", files=[new_file("file-a")])
    claimed = await repo.claim_file("w1", 300)
    assert claimed is not None
    assert await repo.release_file(store.id, claimed.id, "w1")
    again = await repo.claim_file("w2", 300)
    assert again is not None and again.id == claimed.id


async def test_batches(database: Database) -> None:
    repo = VectorStoreRepository(database)
    store = await repo.create("alice")
    batch = await repo.create_batch(store.id, "alice", [new_file("file-a"), new_file("file-b"), new_file("file-c")])
    assert batch is not None and batch.id.startswith("vsfb_") and batch.status == "in_progress"
    assert batch.file_counts == FileCounts(in_progress=3, total=3)
    assert batch.file_ids == ["file-a", "file-b", "file-c"]
    assert await repo.create_batch(store.id, "bob", [new_file("file-x")]) is None
    assert await repo.get_batch(store.id, batch.id, "bob") is None
    with pytest.raises(ValueError):
        await repo.create_batch(store.id, "alice", [new_file("file-a"), new_file("file-a")])

    await ingest(repo, ["a"])
    cancelled = await repo.cancel_batch(store.id, batch.id, "alice")
    assert cancelled is not None and cancelled.status == "cancelled"
    assert cancelled.file_counts == FileCounts(completed=1, cancelled=2, total=3)
    assert await repo.claim_file("w1", 30) is None  # nothing left to ingest
    listed = await repo.list_files(store.id, "alice", batch_id=batch.id, status="cancelled")
    assert listed is not None and sorted(f.id for f in listed[0]) == ["file-b", "file-c"]
    assert await repo.list_files(store.id, "alice", batch_id="vsfb_nope") is None


async def test_batch_status_completed_and_failed(database: Database) -> None:
    repo = VectorStoreRepository(database)
    store = await repo.create("alice")
    batch = await repo.create_batch(store.id, "alice", [new_file("file-a")])
    assert batch is not None
    claimed = await repo.claim_file("w1", 30)
    assert claimed is not None
    await repo.fail_file(store.id, claimed.id, "w1", "unsupported_file", "no")
    failed = await repo.get_batch(store.id, batch.id, "alice")
    assert failed is not None and failed.status == "failed"
    finished = await repo.cancel_batch(store.id, batch.id, "alice")
    assert finished is not None and finished.status == "failed"  # a finished batch is not cancelled
