"""Ingestion as durable background work. Attaching a file to a vector store leaves a
row ``in_progress`` (``VectorStoreRepository.add_file`` / ``create_batch``); an
``Ingester`` is the ``LeasedWork`` of such rows (``jobs/lease_runner.py``): a job runner (the
lease runner by default, PgQueuer's queue on PostgreSQL) hands it a file under a lease
(so the work survives a restart: a file whose ingester died is taken again once the
lease runs out), and for each one it extracts the text, chunks it, embeds the chunks in
batches, and writes chunks, full-text rows and ``completed`` in one transaction guarded
by the lease (see ``VectorStoreRepository.complete_file``), so a redone file is indexed
exactly once. A file that cannot be read ends ``failed`` with ``last_error``; the others
go on. A cancelled batch's files lose their lease, and ``cancel_batch`` tells the job
runner at once (``JobRunner.cancel_many``): queued ones are dropped, and one being
indexed stops mid-embedding and is dropped.

``run_once`` does one file without a runner, for tests."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TypeVar

from switchyard.core.errors import SwitchyardError
from switchyard.jobs import InProcessRunner, JobRunner
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
    FileBatchRecord,
    NewChunk,
    VectorStoreFileRecord,
    VectorStoreRecord,
    VectorStoreRepository,
)

log = logging.getLogger(__name__)

T = TypeVar("T")
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
    name = "ingest"

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
        self.concurrency = concurrency
        self.embed_batch = embed_batch
        self.max_attempts = max_attempts
        self.clock = clock  # what leases are measured against (tests move it to expire one)
        self.on_indexed = on_indexed  # called with the store id after a file's chunks are written
        self.runner: JobRunner = InProcessRunner(self, concurrency=concurrency, lease_seconds=lease_seconds,
                                                 idle_poll_seconds=idle_poll_seconds)
        self._started = False
        self._releasing = True

    # -- lifecycle -------------------------------------------------------------

    def start(self) -> None:
        if not self._started:
            self._started = True
            self._releasing = True
            self.runner.start()

    def wake(self) -> None:
        """New work was queued (a file attached): look now rather than at the next poll."""
        self.runner.wake()

    async def cancel_batch(self, vector_store_id: str, batch_id: str, owner_id: str) -> FileBatchRecord | None:
        """Cancels a file batch (``VectorStoreRepository.cancel_batch``) and tells the job
        runner at once: its files still queued are dropped, the ones being indexed stop."""
        cancelled = await self.repo.cancel_batch_files(vector_store_id, batch_id, owner_id)
        if cancelled is None:
            return None
        record, file_ids = cancelled
        if file_ids:
            await self.runner.cancel_many([f"{vector_store_id}/{file_id}" for file_id in file_ids])
        return record

    def pause(self) -> None:
        """Takes no more files (the process drains); the ones in hand go on until ``stop``."""
        self.runner.pause()

    async def stop(self, *, release: bool = True) -> None:
        """Stops taking files and abandons the ones in hand; with ``release`` they are
        handed back at once, else they wait for their leases to run out (as after a crash)."""
        if not self._started:
            return
        self._releasing = release
        await self.runner.stop()
        self._started = False

    async def run_once(self) -> bool:
        """Claims and ingests one file; False when there was nothing to do."""
        record = await self.claim(self.worker_id, self.lease_seconds)
        if record is None:
            return False
        lost = asyncio.Event()
        renewer = asyncio.create_task(self._renew(record, lost))
        try:
            await self._ingest(record, self.worker_id, lost)
        finally:
            renewer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await renewer
        return True

    # -- LeasedWork ----------------------------------------------------------------

    def key(self, job: VectorStoreFileRecord) -> str:
        return f"{job.vector_store_id}/{job.id}"

    async def claim(self, worker_id: str, lease_seconds: float) -> VectorStoreFileRecord | None:
        return await self.repo.claim_file(worker_id, lease_seconds, now=self.clock())

    async def take(self, key: str, worker_id: str, lease_seconds: float) -> VectorStoreFileRecord | None:
        store_id, file_id = key.split("/", 1)
        return await self.repo.take_file(store_id, file_id, worker_id, lease_seconds, now=self.clock())

    async def renew(self, job: VectorStoreFileRecord, worker_id: str, lease_seconds: float) -> bool:
        """False when the file was cancelled, detached or taken over: the runner stops it."""
        return await self.repo.renew_file_lease(job.vector_store_id, job.id, worker_id, lease_seconds,
                                                now=self.clock())

    async def release(self, job: VectorStoreFileRecord, worker_id: str) -> None:
        if self._releasing:
            await self.repo.release_file(job.vector_store_id, job.id, worker_id)

    async def is_open(self, key: str) -> bool:
        store_id, file_id = key.split("/", 1)
        return await self.repo.file_in_progress(store_id, file_id)

    async def open_keys(self) -> list[str]:
        return [f"{store_id}/{file_id}" for store_id, file_id in await self.repo.unfinished_files()]

    async def run(self, job: VectorStoreFileRecord, worker_id: str, cancelled: asyncio.Event | None = None) -> None:
        await self._ingest(job, worker_id, cancelled or asyncio.Event())

    # -- one file ----------------------------------------------------------------

    async def _ingest(self, record: VectorStoreFileRecord, worker_id: str, lost: asyncio.Event) -> None:
        """One file, while ``lost`` is not set (its lease renewal failed, or a cancel came)."""
        try:
            chunks = await self._prepare(record, lost)
            if not await self.repo.complete_file(record.vector_store_id, record.id, worker_id, chunks):
                log.info("file %s in %s was cancelled or taken over; dropped", record.id, record.vector_store_id)
            elif self.on_indexed is not None:
                self.on_indexed(record.vector_store_id)
        except _Failed as failure:
            await self.repo.fail_file(record.vector_store_id, record.id, worker_id, failure.code, failure.message)
        except _Lost:
            log.info("file %s in %s was cancelled or taken over; dropped", record.id, record.vector_store_id)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.exception("ingesting file %s into %s failed", record.id, record.vector_store_id)
            await self.repo.fail_file(record.vector_store_id, record.id, worker_id, "server_error",
                                      f"The file could not be indexed: {exc}")

    async def _renew(self, record: VectorStoreFileRecord, lost: asyncio.Event) -> None:
        """``run_once``'s lease renewal (a runner renews the files it runs itself)."""
        while True:
            await asyncio.sleep(self.lease_seconds / 3)
            try:
                held = await self.renew(record, self.worker_id, self.lease_seconds)
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
                embeddings = await _unless_lost(embedder.embed([piece.text for piece in batch]), lost)
            except SwitchyardError as exc:
                raise _Failed("server_error", f"Embedding the file's chunks failed: {exc.message}") from exc
            chunks += [NewChunk(piece.text, piece.tokens, to_bytes(vector))
                       for piece, vector in zip(batch, embeddings.vectors, strict=True)]
        if lost.is_set():
            raise _Lost
        return chunks


async def _unless_lost(work: Awaitable[T], lost: asyncio.Event) -> T:
    """``work``'s result, or ``_Lost`` as soon as ``lost`` is set (the work is stopped)."""
    task = asyncio.ensure_future(work)
    watch = asyncio.create_task(lost.wait())
    try:
        await asyncio.wait({task, watch}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        watch.cancel()
        if not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
    if task.cancelled():
        raise _Lost
    return task.result()
