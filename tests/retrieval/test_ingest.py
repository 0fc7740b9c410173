"""Ingestion with the real embedded model, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from switchyard.core.errors import ErrorKind, SwitchyardError
from switchyard.providers.base import Embeddings
from switchyard.providers.local_embeddings import LocalEmbedder
from switchyard.retrieval import Ingester, VectorStoreSearch, parse_chunking_strategy, static_strategy
from switchyard.retrieval.chunking import chunk_text
from switchyard.store import Database
from switchyard.store.blobs import BlobStore
from switchyard.store.files import FileRepository
from switchyard.store.models import utcnow
from switchyard.store.vector_store_chunks import ChunkIndex
from switchyard.store.vector_store_models import VectorStoreChunk
from switchyard.store.vector_stores import FileCounts, NewFile, VectorStoreRepository
from tests.retrieval.conftest import upload
from tests.retrieval.documents import docx_file, pdf, pptx_file

pytestmark = pytest.mark.slow

SMALL = static_strategy(100, 0)
LEASE = 60.0  # seconds; a lease runs out only when a test moves an ingester's clock past it
LONG_TEXT = " ".join(f"Sentence {i} talks about lighthouse keeper number {i}." for i in range(120))


class GatedEmbedder:
    """The real model, except that call number ``stop_at`` waits for ``gate``."""

    def __init__(self, inner: LocalEmbedder, stop_at: int) -> None:
        self.inner = inner
        self.dimensions = inner.dimensions
        self.stop_at = stop_at
        self.calls = 0
        self.reached = asyncio.Event()
        self.gate = asyncio.Event()

    async def embed(self, texts: list[str], dimensions: int | None = None) -> Embeddings:
        self.calls += 1
        if self.calls == self.stop_at:
            self.reached.set()
            await self.gate.wait()
        return await self.inner.embed(texts, dimensions)

    async def aclose(self) -> None:
        pass


class Clock:
    """Real time plus an offset the test moves forward."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def now(self) -> datetime:
        return utcnow() + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += timedelta(seconds=seconds)


class BrokenEmbedder:
    dimensions = 384

    async def embed(self, texts: list[str], dimensions: int | None = None) -> Embeddings:
        raise SwitchyardError(ErrorKind.UPSTREAM, "upstream embedding model unreachable")

    async def aclose(self) -> None:
        pass


async def attach(db: Database, blobs: BlobStore, store_id: str, name: str, data: bytes,
                 strategy: dict[str, object] | None = None, **attributes: object) -> str:
    file = await upload(db, blobs, "alice", name, data)
    record = await VectorStoreRepository(db).add_file(
        store_id, "alice", NewFile(file.id, name, strategy or parse_chunking_strategy(None), attributes))
    assert record is not None
    return file.id


async def drain(ingester: Ingester) -> int:
    done = 0
    while await ingester.run_once():
        done += 1
    return done


async def chunk_count(db: Database, file_id: str) -> int:
    async with db.session() as session:
        return int(await session.scalar(
            select(func.count()).select_from(VectorStoreChunk).where(VectorStoreChunk.file_id == file_id)) or 0)


DOCUMENTS = {
    "notes.txt": b"The walrus colony migrates north every spring.",
    "guide.md": b"# Setup\n\nInstall the quokka toolkit with pip.",
    "page.html": b"<html><body><h1>Harbour</h1><p>The lighthouse on the pelican pier.</p>"
                 b"<script>ignored()</script></body></html>",
    "data.json": json.dumps({"species": "axolotl", "habitat": "Lake Xochimilco"}).encode(),
    "table.csv": b"animal,food\nkoala,eucalyptus\npanda,bamboo\n",
    "report.pdf": pdf("The narwhal tusk is a long spiral tooth."),
    "memo.docx": docx_file("The okapi is related to the giraffe."),
    "deck.pptx": pptx_file(("Capybara", "The capybara is the largest rodent.")),
    "tool.py": b"def pangolin_scales():\n    return 'keratin'\n",
}
FINDS = {
    "walrus": "notes.txt", "quokka": "guide.md", "pelican": "page.html", "axolotl": "data.json",
    "eucalyptus": "table.csv", "narwhal": "report.pdf", "okapi": "memo.docx", "capybara": "deck.pptx",
    "pangolin": "tool.py",
}


async def test_every_format_is_indexed_and_bad_files_fail_alone(database: Database, blobs: BlobStore,
                                                                 embedder: LocalEmbedder) -> None:
    repo = VectorStoreRepository(database)
    store = await repo.create("alice")
    ids = {name: await attach(database, blobs, store.id, name, data) for name, data in DOCUMENTS.items()}
    bad = {
        "photo.png": await attach(database, blobs, store.id, "photo.png", b"\x89PNG\r\n\x1a\n\x00binary"),
        "broken.pdf": await attach(database, blobs, store.id, "broken.pdf", b"%PDF-1.7 truncated garbage"),
    }
    assert await drain(Ingester(database, blobs, lambda _: embedder)) == len(DOCUMENTS) + 2

    for name, file_id in ids.items():
        record = await repo.get_file(store.id, file_id, "alice")
        assert record is not None and (name, record.status, record.last_error) == (name, "completed", None)
        assert record.usage_bytes > 384 * 4
    png = await repo.get_file(store.id, bad["photo.png"], "alice")
    assert png is not None and png.status == "failed" and png.last_error is not None
    assert png.last_error["code"] == "unsupported_file"
    broken = await repo.get_file(store.id, bad["broken.pdf"], "alice")
    assert broken is not None and broken.status == "failed" and broken.last_error is not None
    assert broken.last_error["code"] == "invalid_file" and "PDF" in broken.last_error["message"]

    final = await repo.get(store.id, "alice")
    assert final is not None and final.status == "completed"
    assert final.file_counts == FileCounts(completed=len(DOCUMENTS), failed=2, total=len(DOCUMENTS) + 2)
    search = VectorStoreSearch(database, lambda _: embedder)
    for word, name in FINDS.items():
        hits = await search.search([store.id], "alice", word)
        assert hits[0].filename == name, word


async def test_status_and_counts_are_truthful_while_ingesting(database: Database, blobs: BlobStore,
                                                             embedder: LocalEmbedder) -> None:
    repo = VectorStoreRepository(database)
    store = await repo.create("alice")
    for i in range(3):
        await attach(database, blobs, store.id, f"doc{i}.txt", LONG_TEXT.encode(), SMALL)
    gated = GatedEmbedder(embedder, stop_at=2)
    ingester = Ingester(database, blobs, lambda _: gated, embed_batch=4)
    ingester.start()
    try:
        await asyncio.wait_for(gated.reached.wait(), 30)
        during = await repo.get(store.id, "alice")
        assert during is not None and during.status == "in_progress"
        assert during.file_counts == FileCounts(in_progress=3, total=3) and during.usage_bytes == 0
        gated.gate.set()
        for _ in range(600):
            now = await repo.get(store.id, "alice")
            assert now is not None
            counts = now.file_counts
            assert counts.total == 3 and counts.in_progress + counts.completed == 3
            assert (now.status == "completed") == (counts.completed == 3)
            if counts.completed == 3:
                break
            await asyncio.sleep(0.05)
        assert now.status == "completed" and now.usage_bytes > 0
    finally:
        await ingester.stop()


@pytest.mark.parametrize("crash", [True, False], ids=["crash", "graceful-stop"])
async def test_restart_mid_file_completes_exactly_once(database: Database, blobs: BlobStore,
                                                      embedder: LocalEmbedder, crash: bool) -> None:
    repo = VectorStoreRepository(database)
    store = await repo.create("alice")
    file_id = await attach(database, blobs, store.id, "long.txt", LONG_TEXT.encode(), SMALL)
    expected = len(chunk_text(LONG_TEXT, SMALL))
    assert expected > 8

    gated = GatedEmbedder(embedder, stop_at=3)
    first = Ingester(database, blobs, lambda _: gated, embed_batch=2, lease_seconds=LEASE)
    first.start()
    await asyncio.wait_for(gated.reached.wait(), 30)
    await first.stop(release=not crash)  # mid-file: two batches embedded, the third in flight
    assert (await repo.get_file(store.id, file_id, "alice")).status == "in_progress"  # type: ignore[union-attr]
    assert await chunk_count(database, file_id) == 0

    clock = Clock()
    second = Ingester(database, blobs, lambda _: embedder, lease_seconds=LEASE, clock=clock.now)
    if crash:
        assert not await second.run_once()  # the dead worker's lease still holds
        clock.advance(LEASE + 1)  # ... and then has run out
    assert await second.run_once()
    assert not await second.run_once()
    record = await repo.get_file(store.id, file_id, "alice")
    assert record is not None and record.status == "completed" and record.attempts == 2
    chunks = await ChunkIndex(database).file_chunks(store.id, file_id, "alice")
    assert chunks is not None and [c.chunk_index for c in chunks] == list(range(expected))
    assert await chunk_count(database, file_id) == expected
    gated.gate.set()


async def test_cancelling_a_batch_stops_unfinished_files(database: Database, blobs: BlobStore,
                                                        embedder: LocalEmbedder) -> None:
    repo = VectorStoreRepository(database)
    store = await repo.create("alice")
    files = [await upload(database, blobs, "alice", f"d{i}.txt", LONG_TEXT.encode()) for i in range(3)]
    batch = await repo.create_batch(store.id, "alice", [NewFile(f.id, f.filename, SMALL) for f in files])
    assert batch is not None
    gated = GatedEmbedder(embedder, stop_at=2)
    ingester = Ingester(database, blobs, lambda _: gated, embed_batch=4, concurrency=1)
    task = asyncio.create_task(ingester.run_once())
    await asyncio.wait_for(gated.reached.wait(), 30)
    cancelled = await repo.cancel_batch(store.id, batch.id, "alice")
    assert cancelled is not None and cancelled.status == "cancelled"
    gated.gate.set()
    assert await task
    assert not await ingester.run_once()
    final = await repo.get_batch(store.id, batch.id, "alice")
    assert final is not None and final.status == "cancelled"
    assert final.file_counts == FileCounts(cancelled=3, total=3)
    for file in files:
        assert await chunk_count(database, file.id) == 0


async def test_embedding_failure_and_deleted_file(database: Database, blobs: BlobStore) -> None:
    repo = VectorStoreRepository(database)
    store = await repo.create("alice")
    failing = await attach(database, blobs, store.id, "a.txt", b"some text")
    gone = await attach(database, blobs, store.id, "b.txt", b"more text")
    assert await FileRepository(database).delete(gone, "alice") is not None
    assert await drain(Ingester(database, blobs, lambda _: BrokenEmbedder())) == 2
    first = await repo.get_file(store.id, failing, "alice")
    assert first is not None and first.status == "failed" and first.last_error is not None
    assert first.last_error["code"] == "server_error" and "unreachable" in first.last_error["message"]
    second = await repo.get_file(store.id, gone, "alice")
    assert second is not None and second.last_error is not None
    assert second.last_error["code"] == "invalid_file" and "deleted" in second.last_error["message"]
