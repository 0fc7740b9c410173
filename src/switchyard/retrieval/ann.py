"""Approximate nearest neighbours for the embedded default (SQLite): one HNSW graph per
large vector store (faiss ``IndexHNSWFlat``, inner product over L2-normalised vectors,
which is the cosine), labelled with chunk ids.

- **Small stores stay exact.** A store with fewer than ``min_chunks`` chunks has no
  graph; the caller scores it exactly (numpy over the cached matrix).
- **Kept up to date incrementally.** A graph holds the store as of a version; when the
  store's version moves on (an ingestion, a detached file), ``refresh`` reads only the
  chunks written since and the ids that are gone (``ChunkIndex.changes``): new vectors
  are added, gone ones become tombstones that every search excludes; when tombstones
  pass ``REBUILD_FRACTION`` of the graph, or an id comes back (SQLite may reuse the
  largest rowid), the graph is rebuilt. Refreshes run in the background (the ingester
  asks for one after each file; a search that finds the graph behind asks too) and a
  search meanwhile is exact, so results never lag the database.
- **Persisted.** After a refresh the graph is written to ``<directory>/<store>.npz``
  (graph, live ids, tombstones, version; replaced atomically) and read back on first
  use after a restart, then caught up like any other.
- **Filters inside the graph walk.** The graph knows each chunk's file, and a chunk
  carries its file's attributes, so the filter is evaluated in SQL over the store's
  files (one row per file, not per chunk); the chunks of the matching files become a
  faiss ``IDSelector`` (a bitmap over chunk ids) checked during the HNSW search, with the walk
  widened (``efSearch``) in proportion to how selective the filter is. A filter that
  matches fewer than ``EXACT_FILTER_ROWS`` chunks, or a walk that comes back with
  fewer than ``k`` hits, is answered exactly by the caller instead: filtered search
  never loses results.

Searches run on the event loop (a graph search takes about a millisecond); a refresh
mutates a graph in a worker thread only while it is marked busy, and searches skip busy
graphs, so the two never overlap."""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import faiss
import numpy as np
import numpy.typing as npt

from switchyard.retrieval.refreshing import StoreIndexes, Upkeep
from switchyard.store.vector_store_chunks import ChunkIndex, StoreChanges

log = logging.getLogger(__name__)

FloatMatrix = npt.NDArray[np.float32]
IdArray = npt.NDArray[np.int64]
Hits = list[tuple[int, float]]

MIN_CHUNKS = 10_000  # smaller stores are scored exactly
HNSW_M = 32
EF_CONSTRUCTION = 80
EF_SEARCH = 400  # 128 and 256 lost 1.5 % nDCG@10 at 100k chunks (bench/hybrid_search.py); 400 matched exact
MAX_EF_SEARCH = 4096
# A filtered walk keeps efSearch = max(EF_SEARCH, FILTER_EF_SEARCH / share of the store the filter keeps):
# at 1M chunks and a 10 % filter, 50 (efSearch 500) kept nDCG@10 within 0.3 % of exact at 26.6 ms CPU,
# where 400 (efSearch 4,000) took 45 ms (bench/hybrid_search.py --graph-filter-ef)
FILTER_EF_SEARCH = 50
EXACT_FILTER_ROWS = 2_000
REBUILD_FRACTION = 0.25
FILTERS_KEPT = 8  # per graph, the last filters' chunk sets (an application repeats its filters)


def _ids(values: list[int]) -> IdArray:
    return np.asarray(values, dtype=np.int64)


@dataclass(frozen=True)
class Allowed:
    """The chunks a filtered walk may return: their ids, sorted, and the bitmap over ids
    that faiss's selector reads during the walk."""

    ids: IdArray
    bitmap: npt.NDArray[np.uint8]

    @classmethod
    def of(cls, ids: IdArray) -> Allowed:
        bits = np.zeros(int(ids[-1]) + 1 if len(ids) else 0, bool)
        bits[ids] = True
        return cls(ids, np.packbits(bits, bitorder="little"))


def _matrix(blobs: list[bytes], dims: int) -> FloatMatrix:
    flat = np.frombuffer(b"".join(blobs), dtype="<f4").astype(np.float32, copy=False)
    return np.ascontiguousarray(flat.reshape(len(blobs), dims))


class Graph:
    """One store's HNSW graph; not thread-safe (see the module doc)."""

    def __init__(self, dims: int, index: faiss.Index | None = None) -> None:
        self.dims = dims
        if index is None:
            hnsw = faiss.IndexHNSWFlat(dims, HNSW_M, faiss.METRIC_INNER_PRODUCT)
            hnsw.hnsw.efConstruction = EF_CONSTRUCTION
            index = faiss.IndexIDMap2(hnsw)
        self.index = index
        self.version = -1
        self.live: IdArray = np.empty(0, np.int64)  # sorted
        self.owner: npt.NDArray[np.int32] = np.empty(0, np.int32)  # each live chunk's file, an index into files
        self.files: list[str] = []
        self.file_index: dict[str, int] = {}
        self.dead: IdArray = np.empty(0, np.int64)  # sorted: in the graph, gone from the store
        self._filters: dict[frozenset[str], Allowed] = {}  # files -> their live chunks, at this version

    def __len__(self) -> int:
        return len(self.live)

    def apply(self, changes: StoreChanges) -> bool:
        """Catches up with ``changes``; False (graph untouched) when only a rebuild can."""
        now = _ids(changes.ids)
        added = _ids(changes.added_ids)
        if np.intersect1d(added, np.concatenate([self.live, self.dead])).size:
            return False  # an id came back: its old vector cannot be told apart
        gone = np.setdiff1d(self.live, now, assume_unique=True)
        dead = np.union1d(self.dead, gone)
        if len(dead) > REBUILD_FRACTION * max(1, len(self.live) + len(added) + len(self.dead)) and len(self.live):
            return False
        if len(added):
            self.index.add_with_ids(_matrix(changes.added, self.dims), added)
        kept = ~np.isin(self.live, gone, assume_unique=True)
        for file_id in changes.added_files:
            if file_id not in self.file_index:
                self.file_index[file_id] = len(self.files)
                self.files.append(file_id)
        owners = np.asarray([self.file_index[f] for f in changes.added_files], np.int32)
        live = np.concatenate([self.live[kept], added])
        order = np.argsort(live, kind="stable")
        self.live = live[order]
        self.owner = np.concatenate([self.owner[kept], owners])[order]
        self.dead = dead
        self.version = changes.version
        self._filters.clear()
        return True

    def in_files(self, files: set[str]) -> Allowed:
        """The live chunks of these files (the last few sets are kept: at 1M chunks,
        finding them takes ~3 ms)."""
        key = frozenset(files)
        found = self._filters.pop(key, None)  # put back last: the least recently used goes first
        if found is None:
            wanted = np.zeros(len(self.files) + 1, bool)
            for file_id in files:
                index = self.file_index.get(file_id)
                if index is not None:
                    wanted[index] = True
            found = Allowed.of(self.live[wanted[self.owner]])
            if len(self._filters) >= FILTERS_KEPT:
                del self._filters[next(iter(self._filters))]
        self._filters[key] = found
        return found

    def top(self, query: FloatMatrix, k: int, allowed: Allowed | None,
            exact_filter_rows: int = EXACT_FILTER_ROWS) -> Hits | None:
        """The ``k`` best ``(chunk id, cosine)`` among ``allowed`` (``in_files``; all
        live chunks when None), best first; None when the caller should score exactly
        instead."""
        if allowed is not None and len(allowed.ids) < exact_filter_rows:
            return None
        wanted = min(k, len(self.live) if allowed is None else len(allowed.ids))
        if wanted <= 0:
            return []
        params = faiss.SearchParametersHNSW()  # type: ignore[attr-defined]  # not in faiss's stubs
        params.efSearch = max(EF_SEARCH, k)
        keep: list[Any] = []  # selectors must outlive the search
        if allowed is not None:
            widened = FILTER_EF_SEARCH * len(self.live) / len(allowed.ids)
            params.efSearch = int(min(MAX_EF_SEARCH, max(params.efSearch, widened)))
            keep += [faiss.IDSelectorBitmap(len(allowed.bitmap), faiss.swig_ptr(allowed.bitmap))]
        elif len(self.dead):
            dead = faiss.IDSelectorBatch(self.dead)
            keep += [dead, faiss.IDSelectorNot(dead)]
        if keep:
            params.sel = keep[-1]
        scores, labels = self.index.search(query.reshape(1, -1), k, params=params)
        hits = [(int(label), float(score)) for label, score in zip(labels[0], scores[0], strict=True) if label >= 0]
        return hits if len(hits) >= wanted else None

    def save(self, path: Path) -> None:
        buffer = io.BytesIO()
        np.savez(buffer, index=faiss.serialize_index(self.index), live=self.live, dead=self.dead,
                 owner=self.owner, files=np.asarray(self.files, dtype=str),
                 meta=np.asarray([self.version, self.dims], np.int64))
        temp = path.with_suffix(".tmp")
        temp.write_bytes(buffer.getvalue())
        os.replace(temp, path)

    @staticmethod
    def load(path: Path) -> Graph | None:
        try:
            with np.load(path) as data:
                version, dims = (int(x) for x in data["meta"])
                graph = Graph(dims, faiss.deserialize_index(data["index"]))
                graph.live, graph.dead, graph.version = data["live"], data["dead"], version
                graph.owner, graph.files = data["owner"], [str(f) for f in data["files"]]
                graph.file_index = {f: i for i, f in enumerate(graph.files)}
                return graph
        except (OSError, ValueError, KeyError, RuntimeError) as exc:
            log.warning("vector index %s unreadable (%s); rebuilding it", path, exc)
            return None


@dataclass
class _Entry(Upkeep):
    graph: Graph | None = None  # None: a small store, scored exactly
    busy: bool = False


class AnnIndexes(StoreIndexes[_Entry]):
    """The graphs of one process."""

    kind, fallback = "vector index", "searches stay exact"

    def __init__(self, chunks: ChunkIndex, directory: Path | None = None, *, min_chunks: int = MIN_CHUNKS,
                 exact_filter_rows: int = EXACT_FILTER_ROWS) -> None:
        super().__init__()
        self.chunks = chunks
        self.directory = directory
        self.min_chunks = min_chunks
        self.exact_filter_rows = exact_filter_rows
        self.answered = 0  # searches the graphs answered, for tests and the benchmark

    def _path(self, store_id: str) -> Path | None:
        return None if self.directory is None else self.directory / f"{store_id}.npz"

    def ready(self, store_id: str, version: int) -> Graph | None:
        """The store's graph if it answers for ``version``; else None (and, unless the
        store is small, a refresh is asked for)."""
        entry = self._entries.get(store_id)
        if entry is None or entry.version < version or entry.busy:
            self.schedule(store_id)
            return None
        return entry.graph

    def top(self, graph: Graph, query: FloatMatrix, k: int, allowed: Allowed | None) -> Hits | None:
        """The answer of a graph that is ``ready``, or None: a filter better scored exactly."""
        hits = graph.top(query, k, allowed, self.exact_filter_rows)
        if hits is not None:
            self.answered += 1
        return hits

    def _new_entry(self) -> _Entry:
        return _Entry()

    async def _refresh(self, store_id: str, entry: _Entry) -> None:
        path = self._path(store_id)
        if entry.graph is None and entry.version < 0 and path is not None and path.exists():
            entry.graph = await asyncio.to_thread(Graph.load, path)
        if entry.graph is None:
            size = await self.chunks.size(store_id)
            if size is None:
                return self._forget(store_id, path)
            if size[1] < self.min_chunks:
                entry.version = size[0]
                return None
        graph = entry.graph
        since = graph.version if graph is not None else -1
        changes = await self.chunks.changes(store_id, since)
        if changes is None:
            return self._forget(store_id, path)
        if graph is not None and changes.version <= graph.version:
            entry.version = max(entry.version, graph.version)
            return None
        entry.busy = True
        try:
            await self._apply(entry, store_id, changes)
            if path is not None and entry.graph is not None:
                path.parent.mkdir(parents=True, exist_ok=True)
                await asyncio.to_thread(entry.graph.save, path)
        finally:
            entry.busy = False
        return None

    async def _apply(self, entry: _Entry, store_id: str, changes: StoreChanges) -> None:
        graph = entry.graph
        if graph is not None and await asyncio.to_thread(graph.apply, changes):
            entry.version = changes.version
            return
        if graph is not None:  # rebuild from every chunk
            full = await self.chunks.changes(store_id, -1)
            if full is None:
                return
            changes = full
        if not changes.added:
            entry.graph, entry.version = None, changes.version
            return
        fresh = Graph(len(changes.added[0]) // 4)
        await asyncio.to_thread(fresh.apply, changes)
        entry.graph, entry.version = fresh, changes.version

    def _forget(self, store_id: str, path: Path | None) -> None:
        self._entries.pop(store_id, None)
        if path is not None:
            with contextlib.suppress(OSError):
                path.unlink()

    def graph(self, store_id: str) -> Graph | None:
        entry = self._entries.get(store_id)
        return None if entry is None else entry.graph
