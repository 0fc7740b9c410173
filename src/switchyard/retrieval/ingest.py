"""Ingestion as durable background work. Attaching a file to a vector store leaves a
row ``in_progress`` (``VectorStoreRepository.add_file`` / ``create_batch``); an
``Ingester`` claims such rows with a lease (so the work survives a restart: a file
whose ingester died is claimed again once the lease runs out), and for each one
extracts its text, chunks it, embeds the chunks in batches, and writes chunks,
full-text rows and ``completed`` in one transaction guarded by the lease (see
``VectorStoreRepository.complete_file``), so a redone file is indexed exactly once.
A file that cannot be read ends ``failed`` with ``last_error``; the others go on. A
cancelled batch's files lose their lease: the ingester drops them.

Like the background runner for responses, it runs in-process; ``run_once`` does
one file, for tests."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import Callable
from datetime import datetime

from switchyard.core.errors import SwitchyardError
from switchyard.providers.base import Embedder
from switchyard.retrieval.chunking import chunk_text
from switchyard.retrieval.extract import ExtractionError, extract_text
from switchyard.retrieval.vectors import to_bytes
from switchyard.store.blobs import BlobNotFound, BlobStore
from switchyard.store.database import Database
from switchyard.store.files import FileRepository
from switchyard.store.models import utcnow
from switchyard.store.vector_stores import (
    ErrorCode,
    NewChunk,
    VectorStoreFileRecord,
    VectorStoreRecord,
    VectorStoreRepository,
)

log = logging.getLogger(__name__)

EmbedderFor = Callable[[VectorStoreRecord], Embedder]
EMBED_BATCH = 64
MAX_ATTEMPTS = 3


class _Failed(Exception):
    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class _Lost(Exception):
    """The file is no longer this worker's (cancelled, detached, or taken over)."""


class Ingester:
    def __init__(self, db: Database, blobs: BlobStore, embedder_for: EmbedderFor, *,
                 lease_seconds: float = 30.0, concurrency: int = 2, idle_poll_seconds: float = 2.0,
                 embed_batch: int = EMBED_BATCH, max_attempts: int = MAX_ATTEMPTS,
                 clock: Callable[[], datetime] = utcnow, on_indexed: Callable[[str], None] | None = None) -> None:
        self.repo = VectorStoreRepository(db)
        self.files = FileRepository(db)
        self.blobs = blobs
        self.embedder_for = embedder_for
        self.worker_id = "ingest_" + secrets.token_hex(6)
        self.lease_seconds = lease_seconds
        self.idle_poll_seconds = idle_poll_seconds
        self.embed_batch = embed_batch
        self.max_attempts = max_attempts
        self.clock = clock  # what leases are measured against (tests move it to expire one)
        self.on_indexed = on_indexed  # called with the store id after a file's chunks are written
        self._slots = asyncio.Semaphore(concurrency)
        self._wakeup = asyncio.Event()
        self._loop_task: asyncio.Task[None] | None = None
        self._running: dict[asyncio.Task[None], VectorStoreFileRecord] = {}

    # -- lifecycle -------------------------------------------------------------

    def start(self) -> None:
        if self._loop_task is None:
            self._loop_task = asyncio.create_task(self._loop(), name="vector-store-ingester")

    def wake(self) -> None:
        """New work was queued (a file attached): look now rather than at the next poll."""
        self._wakeup.set()

    async def stop(self, *, release: bool = True) -> None:
        """Stops claiming and abandons the files in hand; with ``release`` they are
        handed back at once, else they wait for their leases to run out (as after a crash)."""
        in_hand = list(self._running.values())
        tasks = [t for t in (self._loop_task, *self._running) if t is not None]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._loop_task = None
        if release:
            for record in in_hand:
                with contextlib.suppress(Exception):
                    await self.repo.release_file(record.vector_store_id, record.id, self.worker_id)

    async def run_once(self) -> bool:
        """Claims and ingests one file; False when there was nothing to do."""
        record = await self.repo.claim_file(self.worker_id, self.lease_seconds, now=self.clock())
        if record is None:
            return False
        await self._ingest(record)
        return True

    async def _loop(self) -> None:
        while True:
            await self._slots.acquire()
            try:
                record = await self.repo.claim_file(self.worker_id, self.lease_seconds, now=self.clock())
            except Exception:
                log.exception("claiming a file to ingest failed")
                record = None
            if record is None:
                self._slots.release()
                self._wakeup.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wakeup.wait(), self.idle_poll_seconds)
                continue
            task = asyncio.create_task(self._run(record))
            self._running[task] = record
            task.add_done_callback(lambda done: self._running.pop(done, None))

    async def _run(self, record: VectorStoreFileRecord) -> None:
        try:
            await self._ingest(record)
        finally:
            self._slots.release()

    # -- one file ----------------------------------------------------------------

    async def _ingest(self, record: VectorStoreFileRecord) -> None:
        lost = asyncio.Event()
        renewer = asyncio.create_task(self._renew(record, lost))
        try:
            chunks = await self._prepare(record, lost)
            if not await self.repo.complete_file(record.vector_store_id, record.id, self.worker_id, chunks):
                log.info("file %s in %s was cancelled or taken over; dropped", record.id, record.vector_store_id)
            elif self.on_indexed is not None:
                self.on_indexed(record.vector_store_id)
        except _Failed as failure:
            await self.repo.fail_file(record.vector_store_id, record.id, self.worker_id, failure.code, failure.message)
        except _Lost:
            log.info("file %s in %s was cancelled or taken over; dropped", record.id, record.vector_store_id)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.exception("ingesting file %s into %s failed", record.id, record.vector_store_id)
            await self.repo.fail_file(record.vector_store_id, record.id, self.worker_id, "server_error",
                                      f"The file could not be indexed: {exc}")
        finally:
            renewer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await renewer

    async def _renew(self, record: VectorStoreFileRecord, lost: asyncio.Event) -> None:
        while True:
            await asyncio.sleep(self.lease_seconds / 3)
            try:
                held = await self.repo.renew_file_lease(record.vector_store_id, record.id, self.worker_id,
                                                        self.lease_seconds, now=self.clock())
            except Exception:
                log.exception("renewing the lease on file %s failed", record.id)
                continue
            if not held:
                lost.set()
                return

    async def _read(self, record: VectorStoreFileRecord) -> tuple[bytes, str, str]:
        file = await self.files.get(record.id, record.owner_id)
        if file is None:
            raise _Failed("invalid_file", f"File {record.id} was deleted (or expired) before it could be indexed.")
        try:
            stream = await self.blobs.open(file.blob_key)
        except BlobNotFound as exc:
            raise _Failed("server_error", f"The contents of file {record.id} are missing from storage.") from exc
        parts = [part async for part in stream]
        return b"".join(parts), file.filename, file.mime_type

    async def _prepare(self, record: VectorStoreFileRecord, lost: asyncio.Event) -> list[NewChunk]:
        if record.attempts > self.max_attempts:
            raise _Failed("server_error", f"Indexing was interrupted {record.attempts - 1} times; giving up.")
        store = await self.repo.get(record.vector_store_id, record.owner_id)
        if store is None:
            raise _Lost
        data, filename, mime_type = await self._read(record)
        try:
            text = await asyncio.to_thread(extract_text, data, filename, mime_type)
        except ExtractionError as exc:
            raise _Failed(exc.code, exc.message) from exc
        pieces = await asyncio.to_thread(chunk_text, text, record.chunking_strategy)
        embedder = self.embedder_for(store)
        chunks: list[NewChunk] = []
        for start in range(0, len(pieces), self.embed_batch):
            if lost.is_set():
                raise _Lost
            batch = pieces[start : start + self.embed_batch]
            try:
                embeddings = await embedder.embed([piece.text for piece in batch])
            except SwitchyardError as exc:
                raise _Failed("server_error", f"Embedding the file's chunks failed: {exc.message}") from exc
            chunks += [NewChunk(piece.text, piece.tokens, to_bytes(vector))
                       for piece, vector in zip(batch, embeddings.vectors, strict=True)]
        if lost.is_set():
            raise _Lost
        return chunks
