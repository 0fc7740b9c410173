from __future__ import annotations

import hashlib
import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from switchyard.core.errors import ErrorKind, SwitchyardError
from switchyard.store.blobs import WRITE_BUFFER, BlobNotFound, BlobStore


async def chunks(*parts: bytes) -> AsyncIterator[bytes]:
    for part in parts:
        yield part


def files_under(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()]


async def read_all(store: BlobStore, key: str) -> bytes:
    return b"".join([chunk async for chunk in await store.open(key)])


async def test_write_streams_to_disk_and_reads_back(tmp_path: Path) -> None:
    store = BlobStore(tmp_path / "files")
    data = os.urandom(3 * WRITE_BUFFER + 123)  # several buffered writes
    pieces = [data[i:i + 65536] for i in range(0, len(data), 65536)]
    stored = await store.write_stream(chunks(*pieces), limit=len(data))
    assert stored.size == len(data)
    assert stored.sha256 == hashlib.sha256(data).hexdigest()
    assert stored.md5 == hashlib.md5(data).hexdigest()
    assert files_under(tmp_path) == [store.path(stored.key)]
    assert store.path(stored.key).is_relative_to(tmp_path / "files")
    assert await read_all(store, stored.key) == data
    assert oct(store.path(stored.key).stat().st_mode & 0o777) == oct(0o600)


async def test_write_is_not_held_in_memory(tmp_path: Path) -> None:
    """While the stream is being consumed, earlier chunks are already on disk."""
    store = BlobStore(tmp_path / "files")
    seen_on_disk: list[int] = []

    async def watched() -> AsyncIterator[bytes]:
        for _ in range(4):
            yield b"x" * WRITE_BUFFER
            temps = list((tmp_path / "files" / "tmp").glob("*.part"))
            seen_on_disk.append(temps[0].stat().st_size if temps else -1)

    await store.write_stream(watched(), limit=10 * WRITE_BUFFER)
    assert seen_on_disk[-1] >= 2 * WRITE_BUFFER


@pytest.mark.parametrize("param", ["file", "data"])
async def test_past_the_limit_aborts_and_leaves_nothing(tmp_path: Path, param: str) -> None:
    store = BlobStore(tmp_path / "files")
    with pytest.raises(SwitchyardError) as caught:
        await store.write_stream(chunks(b"a" * WRITE_BUFFER, b"b" * WRITE_BUFFER, b"c"), limit=2 * WRITE_BUFFER,
                                 param=param)
    assert caught.value.kind is ErrorKind.REQUEST_TOO_LARGE and caught.value.status == 413
    assert caught.value.param == param and str(2 * WRITE_BUFFER) in caught.value.message
    assert files_under(tmp_path) == []


async def test_exactly_the_limit_is_accepted(tmp_path: Path) -> None:
    stored = await BlobStore(tmp_path / "files").write_stream(chunks(b"12345"), limit=5)
    assert stored.size == 5


async def test_a_failing_stream_leaves_nothing(tmp_path: Path) -> None:
    async def broken() -> AsyncIterator[bytes]:
        yield b"partial"
        raise ConnectionError("client went away")

    with pytest.raises(ConnectionError):
        await BlobStore(tmp_path / "files").write_stream(broken(), limit=100)
    assert files_under(tmp_path) == []


async def test_concat_delete_and_missing(tmp_path: Path) -> None:
    store = BlobStore(tmp_path / "files")
    keys = [(await store.write_stream(chunks(part), limit=100)).key for part in (b"one ", b"two ", b"three ")]
    joined = await store.concat(keys[::-1])
    assert await read_all(store, joined.key) == b"three two one "
    assert joined.size == 14 and joined.md5 == hashlib.md5(b"three two one ").hexdigest()
    assert await store.delete(keys[0]) is True
    assert await store.delete(keys[0]) is False
    with pytest.raises(BlobNotFound):
        await store.open(keys[0])
    with pytest.raises(BlobNotFound):
        await store.concat([keys[1], keys[0]])
    assert len(files_under(tmp_path)) == 3  # two parts and the joined blob; no partial concat


@pytest.mark.parametrize("key", ["../../etc/passwd", "a.txt", "", "0" * 31, "G" * 32, "/" + "0" * 31])
async def test_only_store_made_keys_are_paths(tmp_path: Path, key: str) -> None:
    with pytest.raises(ValueError):
        BlobStore(tmp_path / "files").path(key)


async def test_stale_temp_files_are_removed(tmp_path: Path) -> None:
    store = BlobStore(tmp_path / "files")
    kept = await store.write_stream(chunks(b"kept"), limit=10)
    temp = tmp_path / "files" / "tmp"
    old, fresh = temp / "old.part", temp / "fresh.part"
    old.write_bytes(b"x")
    fresh.write_bytes(b"y")
    os.utime(old, (0, 0))
    assert store.remove_stale_temp(older_than=3600) == 1
    assert not old.exists() and fresh.exists() and store.path(kept.key).exists()
