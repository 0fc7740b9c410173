"""Exact vector similarity in process (small stores, selective filters, and stores
whose HNSW graph is catching up; see ``search.py``): each store's matrix of float32
embeddings is loaded once, cached by ``(vector_store_id, version)`` (the version moves
on with every change to the store's chunks, and every search reads it from the
database, so another process's change is seen at once), and scored with numpy
(vectors are L2-normalised: a dot product is the cosine). The cache is an LRU bounded
in bytes."""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from switchyard.store.vector_store_chunks import ChunkIndex

FloatMatrix = npt.NDArray[np.float32]
IdArray = npt.NDArray[np.int64]
DEFAULT_CACHE_BYTES = 1 << 30


def to_bytes(vector: Sequence[float]) -> bytes:
    """A vector as stored: L2-normalised float32, little-endian."""
    array = np.asarray(vector, dtype="<f4")
    norm = float(np.linalg.norm(array))
    return (array / norm if norm > 0 else array).astype("<f4").tobytes()


def normalised(vectors: Sequence[Sequence[float]]) -> FloatMatrix:
    matrix = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return (matrix / np.clip(norms, 1e-12, None)).astype(np.float32)


@dataclass(frozen=True, slots=True)
class StoreMatrix:
    version: int
    ids: IdArray
    matrix: FloatMatrix  # one row per chunk id

    @property
    def nbytes(self) -> int:
        return int(self.ids.nbytes + self.matrix.nbytes)

    def top(self, query: FloatMatrix, k: int, allowed: IdArray | None = None) -> list[tuple[int, float]]:
        """The ``k`` best ``(chunk id, cosine)`` for one normalised query vector, best first;
        only ids in ``allowed`` (sorted) when given."""
        if not len(self.ids):
            return []
        if allowed is not None and len(allowed) * 4 < len(self.ids):  # a selective filter: score its rows only
            rows = np.minimum(np.searchsorted(self.ids, allowed), len(self.ids) - 1)
            rows = rows[self.ids[rows] == allowed]
            ids, scores = self.ids[rows], self.matrix[rows] @ query
        else:
            ids, scores = self.ids, self.matrix @ query
            if allowed is not None:
                scores = np.where(np.isin(ids, allowed, assume_unique=True), scores, -np.inf)
        k = min(k, len(scores))
        if k <= 0:
            return []
        best = np.argpartition(-scores, k - 1)[:k]
        best = best[np.argsort(-scores[best], kind="stable")]
        return [(int(ids[i]), float(scores[i])) for i in best if np.isfinite(scores[i])]


class VectorCache:
    def __init__(self, index: ChunkIndex, max_bytes: int = DEFAULT_CACHE_BYTES) -> None:
        self.index = index
        self.max_bytes = max_bytes
        self._entries: OrderedDict[str, StoreMatrix] = OrderedDict()
        self._locks: dict[str, asyncio.Lock] = {}
        self.loads = 0  # matrices read from the database, for tests and the benchmark

    def _put(self, store_id: str, entry: StoreMatrix) -> None:
        self._entries[store_id] = entry
        self._entries.move_to_end(store_id)
        total = sum(item.nbytes for item in self._entries.values())
        while total > self.max_bytes and len(self._entries) > 1:
            _, dropped = self._entries.popitem(last=False)
            total -= dropped.nbytes

    async def get(self, store_id: str, version: int) -> StoreMatrix:
        """The store's matrix at ``version`` or later; read from the database only
        when the cached one is older."""
        entry = self._entries.get(store_id)
        if entry is not None and entry.version >= version:
            self._entries.move_to_end(store_id)
            return entry
        lock = self._locks.setdefault(store_id, asyncio.Lock())
        async with lock:
            entry = self._entries.get(store_id)
            if entry is not None and entry.version >= version:
                return entry
            loaded = await self.index.vectors(store_id)
            self.loads += 1
            if loaded is None:
                return StoreMatrix(version, np.empty(0, np.int64), np.empty((0, 0), np.float32))
            ids = np.asarray(loaded.ids, dtype=np.int64)
            if loaded.embeddings:
                flat = np.frombuffer(b"".join(loaded.embeddings), dtype="<f4").astype(np.float32, copy=False)
                matrix = flat.reshape(len(loaded.ids), -1)
            else:
                matrix = np.empty((0, 0), np.float32)
            entry = StoreMatrix(loaded.version, ids, matrix)
            self._put(store_id, entry)
            return entry

    def forget(self, store_id: str) -> None:
        self._entries.pop(store_id, None)
