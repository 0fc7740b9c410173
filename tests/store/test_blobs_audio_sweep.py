"""A per-request blob store (audio uploads) swept of what a dead process left."""

from __future__ import annotations

import os
import time
from pathlib import Path

from switchyard.store.blobs import BlobStore


async def _chunks(data: bytes):
    yield data


async def test_remove_older_than_keeps_the_recent(tmp_path: Path) -> None:
    store = BlobStore(tmp_path)
    old = await store.write_stream(_chunks(b"old"), 100)
    new = await store.write_stream(_chunks(b"new"), 100)
    day_ago = time.time() - 2 * 86400
    os.utime(store.path(old.key), (day_ago, day_ago))
    assert store.remove_older_than(86400) == 1
    assert not store.path(old.key).exists() and store.path(new.key).read_bytes() == b"new"
    assert BlobStore(tmp_path / "missing").remove_older_than(0) == 0
