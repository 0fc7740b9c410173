"""File contents in a directory (``files_dir``; default ``<data_dir>/files/``), which
several processes may share (NFS or a shared volume).

Blobs are named by random keys this module chooses (``ab/ab12…``), never by a
client's file name. Writes stream to a temporary file in the same directory tree
(so on the same file system) and are renamed into place once complete, so a blob
either exists whole or not at all, for this process and every other one reading the
directory; nothing is ever held whole in memory."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import re
import secrets
import time
from collections.abc import AsyncIterator, Iterable
from pathlib import Path
from typing import BinaryIO, NamedTuple

from switchyard.core.errors import ErrorKind, SwitchyardError

READ_CHUNK = 256 * 1024
WRITE_BUFFER = 1024 * 1024  # bytes gathered before one write on a worker thread
_KEY = re.compile(r"[0-9a-f]{32}")


class StoredBlob(NamedTuple):
    key: str
    size: int
    sha256: str
    md5: str


class BlobNotFound(LookupError):
    pass


def too_large(param: str, limit: int) -> SwitchyardError:
    return SwitchyardError(
        ErrorKind.REQUEST_TOO_LARGE,
        f"'{param}' exceeds the upload size limit of {limit} bytes.",
        param=param,
        code="file_too_large",
    )


class _Writer:
    """A temporary file being filled, with running size and digests."""

    def __init__(self, temp: Path) -> None:
        self.temp = temp
        self.size = 0
        self.sha256 = hashlib.sha256()
        self.md5 = hashlib.md5(usedforsecurity=False)
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        self.handle: BinaryIO = os.fdopen(fd, "wb")
        self._buffer: list[bytes] = []
        self._buffered = 0

    async def add(self, chunk: bytes) -> None:
        self.size += len(chunk)
        self.sha256.update(chunk)
        self.md5.update(chunk)
        self._buffer.append(chunk)
        self._buffered += len(chunk)
        if self._buffered >= WRITE_BUFFER:
            await self.flush()

    async def flush(self) -> None:
        if self._buffer:
            data = b"".join(self._buffer)
            self._buffer, self._buffered = [], 0
            await asyncio.to_thread(self.handle.write, data)

    async def finish(self) -> None:
        await self.flush()
        await asyncio.to_thread(_sync_close, self.handle)

    def discard(self) -> None:
        with contextlib.suppress(OSError):
            self.handle.close()
        with contextlib.suppress(OSError):
            self.temp.unlink()


def _sync_close(handle: BinaryIO) -> None:
    handle.flush()
    os.fsync(handle.fileno())
    handle.close()


async def _read_chunks(handle: BinaryIO, chunk_size: int) -> AsyncIterator[bytes]:
    try:
        while chunk := await asyncio.to_thread(handle.read, chunk_size):
            yield chunk
    finally:
        handle.close()


class BlobStore:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self._temp = self.root / "tmp"

    def path(self, key: str) -> Path:
        """Where ``key`` lives; only keys this store made are accepted."""
        if not _KEY.fullmatch(key):
            raise ValueError(f"not a blob key: {key!r}")
        return self.root / key[:2] / key

    def _new_temp(self) -> Path:
        self._temp.mkdir(parents=True, exist_ok=True)
        return self._temp / (secrets.token_hex(16) + ".part")

    async def _commit(self, writer: _Writer) -> StoredBlob:
        await writer.finish()
        key = secrets.token_hex(16)
        target = self.path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(writer.temp, target)
        return StoredBlob(key, writer.size, writer.sha256.hexdigest(), writer.md5.hexdigest())

    async def write_stream(self, chunks: AsyncIterator[bytes], limit: int, *, param: str = "file") -> StoredBlob:
        """Stores ``chunks`` as a new blob. Past ``limit`` bytes the partial file is
        deleted and a 413 naming ``param`` is raised (as on any other failure,
        including a client that disconnects, nothing is left behind)."""
        writer = _Writer(self._new_temp())
        try:
            async for chunk in chunks:
                if writer.size + len(chunk) > limit:
                    raise too_large(param, limit)
                await writer.add(chunk)
            return await self._commit(writer)
        except BaseException:
            writer.discard()
            raise

    async def concat(self, keys: Iterable[str]) -> StoredBlob:
        """A new blob holding the blobs ``keys`` one after another (they are kept)."""
        writer = _Writer(self._new_temp())
        try:
            for key in keys:
                async for chunk in await self.open(key):
                    await writer.add(chunk)
            return await self._commit(writer)
        except BaseException:
            writer.discard()
            raise

    async def open(self, key: str, chunk_size: int = READ_CHUNK) -> AsyncIterator[bytes]:
        """The blob's bytes in chunks; ``BlobNotFound`` now (not while iterating) if
        it is missing. The file is closed when the iterator ends or is closed."""
        try:
            handle = await asyncio.to_thread(self.path(key).open, "rb")
        except FileNotFoundError as exc:
            raise BlobNotFound(key) from exc
        return _read_chunks(handle, chunk_size)

    async def delete(self, key: str) -> bool:
        """Removes the blob; False if it was not there."""
        try:
            await asyncio.to_thread(self.path(key).unlink)
        except FileNotFoundError:
            return False
        return True

    async def delete_many(self, keys: Iterable[str]) -> None:
        for key in keys:
            await self.delete(key)

    def remove_older_than(self, seconds: float) -> int:
        """Deletes every blob (and temporary file) older than ``seconds``: for a store whose
        blobs only live for one request (audio uploads), what a crashed process left."""
        removed = 0
        deadline = time.time() - seconds
        for path in self.root.rglob("*") if self.root.is_dir() else []:
            with contextlib.suppress(OSError):
                if path.is_file() and path.stat().st_mtime < deadline:
                    path.unlink()
                    removed += 1
        return removed

    def remove_stale_temp(self, older_than: float = 24 * 3600) -> int:
        """Deletes temporary files a crashed process left behind (call at start-up);
        how many went. Files younger than ``older_than`` seconds may be in use."""
        removed = 0
        deadline = time.time() - older_than
        for temp in self._temp.glob("*.part") if self._temp.is_dir() else []:
            with contextlib.suppress(OSError):
                if temp.stat().st_mtime < deadline:
                    temp.unlink()
                    removed += 1
        return removed


def audio_upload_store(data_dir: Path) -> BlobStore:
    """Where transcription uploads live for the one request that reads them, apart from the
    Files API's blobs (``<data_dir>/audio-uploads/files``)."""
    return BlobStore(Path(data_dir) / "audio-uploads" / "files")


def image_upload_store(data_dir: Path) -> BlobStore:
    """Where the images and masks sent to an edit or variation live for that one request:
    in this process's ``data_dir`` (``<data_dir>/image-uploads/files``), so one that dies
    mid-answer leaves nothing in the shared ``files_dir``."""
    return BlobStore(Path(data_dir) / "image-uploads" / "files")


def request_upload_stores(data_dir: Path) -> list[BlobStore]:
    """Every store of blobs that live for one request (swept of leftovers at start-up)."""
    return [audio_upload_store(data_dir), image_upload_store(data_dir)]
