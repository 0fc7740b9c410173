"""Full-text ranking for large vector stores: one tantivy index per store (on-disk
segments, BM25 top-k by block-max WAND, which skips only documents that cannot enter
the top k, so the top k is exact), in place of SQL's full-text ranking (FTS5's ``bm25``
on SQLite, ``ts_rank_cd`` on PostgreSQL), which scores every chunk that holds a query
word. On PostgreSQL every process keeps its own replica (in its own data directory),
caught up from the store's version like a graph. The lifecycle is the graphs'
(``retrieval/ann.py``); "SQL" below is the database's own full-text query:

- **Small stores keep SQL.** A store with fewer than ``min_chunks`` chunks has no
  index. A search over several stores uses the indexes only when every store has one
  (each store's top k, merged by score; each index has its own BM25 statistics), else
  SQL for all of them.
- **Kept up to date incrementally** from the store's version (``ChunkIndex.changed_ids``
  and ``texts``): chunks written since are added (each after a delete of its id, so a
  re-applied or reused id never doubles), gone ids are deleted by their id term, and
  tantivy's merges drop deleted documents. Refreshes run in the background (after each
  ingested file; when a search finds the index behind), and a search meanwhile uses
  SQL: results never lag the database.
- **Persisted** in ``<directory>/<store>.v<SCHEMA>/``, with a sidecar ``….npz`` beside
  it (the version and the live ids) written after each commit; a ``….dirty`` marker is
  present while a refresh writes, and an index found with it (a crash mid-refresh) or
  without its sidecar is rebuilt (all its documents deleted, under the writer lock).
  After a restart the index is read back and caught up.
- **One writer per directory.** tantivy locks an index directory for its writer, which
  this process holds for as long as it keeps the index; another process (or another
  ``TextIndexes`` on the same directory) that finds the lock taken uses SQL for that
  store (correct, slower) and tries again after ``LOCKED_RETRY`` seconds.
- **Filters inside the query.** Each chunk's file id is indexed; a filtered search adds
  the matching files (the file-level SQL filter, ``ChunkIndex.matching_files``) as a
  term-set clause of score 0, so the BM25 scores are unchanged.

Ranking: BM25 of the query's words (``Should``: a chunk matches when it holds any), plus
a proximity score: each pair of consecutive query words found at most ``PROXIMITY_SLOP``
words apart (in either order: a swap costs tantivy's slop 2) adds its phrase score, as
``ts_rank_cd``'s cover density rewards query words close together. The matches are
BM25's; only their order changes.

Tokenisation follows the FTS5 table (``porter unicode61 remove_diacritics 2``): words are
runs of letters and digits, lowercased, folded to ASCII and stemmed (tantivy's English
stemmer is Snowball's Porter2, a revision of FTS5's Porter). Query words never reach a
query parser: each becomes a term query (or a phrase query when it holds several tokens,
as ``a_b`` does, like FTS5's ``"a_b"``), joined by ``Should``."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import os
import shutil
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import tantivy

from switchyard.retrieval.refreshing import StoreIndexes, Upkeep
from switchyard.store.vector_store_chunks import ChangedIds, ChunkIndex, text_terms

log = logging.getLogger(__name__)

IdArray = npt.NDArray[np.int64]
Hits = list[tuple[int, float]]

SCHEMA = 1  # bump when the fields or the analyzer change: indexes of another are rebuilt
ANALYZER = "switchyard_en"
HEAP_BYTES = 128_000_000  # the writer's indexing memory (split among its threads)
PAGE = 20_000  # chunks read from the database per step of a refresh
LOCKED_RETRY = 60.0  # seconds before trying another process's writer lock again
# Proximity: each pair of consecutive query words, at most this many words apart (either order),
# adds its phrase score times the boost (bench/README.md: issue 13, run 9)
PROXIMITY_SLOP = 2
PROXIMITY_BOOST = 1.0


def analyzer() -> tantivy.TextAnalyzer:
    return (tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple()).filter(tantivy.Filter.remove_long(255))
            .filter(tantivy.Filter.lowercase()).filter(tantivy.Filter.ascii_fold())
            .filter(tantivy.Filter.stemmer("english")).build())


def _schema() -> tantivy.Schema:
    builder = tantivy.SchemaBuilder()
    builder.add_text_field("text", tokenizer_name=ANALYZER, index_option="position")
    builder.add_text_field("file", tokenizer_name="raw", index_option="basic")
    builder.add_integer_field("id", indexed=True, fast=True)
    return builder.build()


class Locked(Exception):
    """Another writer holds the index directory."""


class StoreText:
    """One store's index and its writer; a refresh is the only writer (under the entry's
    lock), and searches use the searcher of the last commit."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.schema = _schema()
        self.analyzer = analyzer()
        self.version = -1
        self.live: IdArray = np.empty(0, np.int64)  # sorted: the chunk ids in the index
        if path is not None:
            path.mkdir(parents=True, exist_ok=True)
        self.index = tantivy.Index(self.schema, path=None if path is None else str(path))  # opened or created
        self.index.register_tokenizer(ANALYZER, analyzer())
        self.index.config_reader("manual")
        try:
            self.writer = self.index.writer(HEAP_BYTES, min(2, os.cpu_count() or 1))
        except ValueError as exc:
            raise Locked(str(exc)) from exc
        if path is not None and self._readable(path):  # checked under the lock: no writer is busy in it
            with np.load(self._sidecar(path)) as data:
                self.version, self.live = int(data["meta"][0]), data["live"].astype(np.int64)
        else:  # a rebuild (committed with the first refresh)
            self.writer.delete_all_documents()
        self.searcher = self.index.searcher()

    @staticmethod
    def _sidecar(path: Path) -> Path:
        return path.with_name(path.name + ".npz")

    @staticmethod
    def _dirty(path: Path) -> Path:
        return path.with_name(path.name + ".dirty")

    def _readable(self, path: Path) -> bool:
        if self._dirty(path).exists() or not self._sidecar(path).exists():
            return False
        try:
            with np.load(self._sidecar(path)) as data:
                return int(data["meta"][1]) == SCHEMA
        except (OSError, ValueError, KeyError) as exc:
            log.warning("full-text index %s unreadable (%s); rebuilding it", path, exc)
            return False

    def begin(self) -> None:
        """Marks the directory as being written (until ``commit`` has saved the sidecar)."""
        if self.path is not None:
            self._dirty(self.path).touch()

    def delete(self, ids: IdArray) -> None:
        for start in range(0, len(ids), 1000):
            self.writer.delete_documents_by_query(
                tantivy.Query.term_set_query(self.schema, "id", [int(i) for i in ids[start:start + 1000]]))

    def add(self, rows: list[tuple[int, str, str]], replace: bool) -> None:
        """Adds ``(id, text, file id)`` rows; ``replace``: each after a delete of its id."""
        if replace:
            self.delete(np.asarray([row[0] for row in rows], np.int64))
        for id, text, file_id in rows:
            doc = tantivy.Document()
            doc.add_integer("id", id)
            doc.add_text("text", text)
            doc.add_text("file", file_id)
            self.writer.add_document(doc)

    def commit(self, version: int, live: IdArray) -> None:
        self.writer.commit()
        self.index.reload()
        self.searcher = self.index.searcher()
        self.version, self.live = version, live
        if self.path is not None:
            sidecar = self._sidecar(self.path)
            temp = sidecar.with_suffix(".tmp.npz")
            np.savez(temp, meta=np.asarray([version, SCHEMA], np.int64), live=live)
            os.replace(temp, sidecar)
            self._dirty(self.path).unlink(missing_ok=True)

    def rollback(self) -> None:
        """Drops what was queued since the last commit (a rebuild stays a rebuild)."""
        self.writer.rollback()
        if self.version < 0:
            self.writer.delete_all_documents()

    def close(self) -> None:
        """Drops the writer (and its directory lock)."""
        with contextlib.suppress(Exception):
            self.writer.rollback()
        del self.writer

    def query(self, words: Sequence[str], files: set[str] | None) -> tantivy.Query | None:
        """``Should`` of each word's term (or phrase) query and of the proximity
        clauses, restricted to ``files``; None when no word leaves a token."""
        clauses = []
        sequence: list[str] = []
        for word in dict.fromkeys(text_terms(words)):
            tokens = self.analyzer.analyze(word)
            if len(tokens) == 1:
                part = tantivy.Query.term_query(self.schema, "text", tokens[0], index_option="freq")
            elif tokens:
                phrase: list[str | tuple[int, str]] = list(tokens)
                part = tantivy.Query.phrase_query(self.schema, "text", phrase)
            else:
                continue
            clauses.append((tantivy.Occur.Should, part))
            sequence += tokens
        if not clauses:
            return None
        for pair in dict.fromkeys(itertools.pairwise(sequence)):
            if pair[0] != pair[1]:  # a chunk holding both words matches already; near each other, it gains
                near = tantivy.Query.phrase_query(self.schema, "text", list(pair), slop=PROXIMITY_SLOP)
                clauses.append((tantivy.Occur.Should, tantivy.Query.boost_query(near, PROXIMITY_BOOST)))
        query = tantivy.Query.boolean_query(clauses)
        if files is None:
            return query
        allowed = tantivy.Query.term_set_query(self.schema, "file", sorted(files))
        return tantivy.Query.boolean_query([(tantivy.Occur.Must, query),
                                            (tantivy.Occur.Must, tantivy.Query.const_score_query(allowed, 0.0))])

    def top(self, words: Sequence[str], k: int, files: set[str] | None) -> Hits:
        """The ``k`` best ``(chunk id, BM25 score)``, best first."""
        if files is not None and not files:
            return []
        query = self.query(words, files)
        if query is None:
            return []
        searcher = self.searcher
        hits = searcher.search(query, k, count=False).hits
        ids = searcher.fast_field_values("id", [address for _, address in hits])
        return [(int(id), float(score)) for (score, _), id in zip(hits, ids, strict=True) if id is not None]


@dataclass
class _Entry(Upkeep):
    text: StoreText | None = None  # None: a small store (or a locked directory): SQL
    locked_until: float = 0.0


class TextIndexes(StoreIndexes[_Entry]):
    """The full-text indexes of one process."""

    kind, fallback = "full-text index", "searches use SQL"

    def __init__(self, chunks: ChunkIndex, directory: Path | None = None, *, min_chunks: int) -> None:
        super().__init__()
        self.chunks = chunks
        self.directory = directory
        self.min_chunks = min_chunks
        self.answered = 0  # searches the indexes answered, for tests and the benchmark

    def _path(self, store_id: str) -> Path | None:
        return None if self.directory is None else self.directory / f"{store_id}.v{SCHEMA}"

    def ready(self, store_id: str, version: int) -> StoreText | None:
        """The store's index if it answers for ``version``; else None (and, unless the
        store is small, a refresh is asked for)."""
        entry = self._entries.get(store_id)
        if entry is None or entry.version < version:
            self.schedule(store_id)
            return None
        return entry.text

    async def top(self, stores: Sequence[tuple[str, int]], words: Sequence[str], k: int,
                  files: dict[str, set[str]] | None) -> Hits | None:
        """The ``k`` best matches of ``words`` over ``(store id, version)`` pairs, merged
        by score; None when a store has no index at its version (the caller uses SQL)."""
        texts = [self.ready(store_id, version) for store_id, version in stores]
        ready = [text for text in texts if text is not None]
        if len(ready) < len(texts):
            return None

        # In a worker thread: tantivy lets go of the GIL while it searches (milliseconds at 1M
        # chunks), so the loop meanwhile drives other work, e.g. this search's own pgvector statement.
        def search() -> Hits:
            return [hit for (store_id, _), text in zip(stores, ready, strict=True)
                    for hit in text.top(words, k, None if files is None else files.get(store_id, set()))]

        hits = await asyncio.to_thread(search)
        self.answered += 1
        return sorted(hits, key=lambda pair: pair[1], reverse=True)[:k]

    def _new_entry(self) -> _Entry:
        return _Entry()

    def _may_refresh(self, entry: _Entry) -> bool:
        return time.monotonic() >= entry.locked_until

    async def _refresh(self, store_id: str, entry: _Entry) -> None:
        path = self._path(store_id)
        if entry.text is None:
            if time.monotonic() < entry.locked_until:
                return None
            if path is None or not path.exists():
                size = await self.chunks.size(store_id)
                if size is None:
                    return self._forget(store_id, entry)
                if size[1] < self.min_chunks:
                    entry.version = size[0]
                    return None
            try:
                entry.text = await asyncio.to_thread(StoreText, path)
            except Locked:
                log.info("the full-text index of %s is written by another process; this one uses SQL for it",
                         store_id)
                entry.locked_until = time.monotonic() + LOCKED_RETRY
                return None
            except (OSError, ValueError) as exc:  # a damaged directory: left for an operator to remove
                log.warning("full-text index %s unusable (%s); searches of this store use SQL", path, exc)
                entry.locked_until = time.monotonic() + LOCKED_RETRY
                return None
        text = entry.text
        changed = await self.chunks.changed_ids(store_id, text.version)
        if changed is None:
            return self._forget(store_id, entry)
        if changed.version <= text.version:
            entry.version = max(entry.version, text.version)
            return None
        await self._apply(text, changed)
        entry.version = changed.version
        return None

    async def _apply(self, text: StoreText, changed: ChangedIds) -> None:
        now = np.asarray(changed.ids, np.int64)
        added = np.asarray(changed.added_ids, np.int64)
        fresh = not len(text.live)
        gone = np.setdiff1d(text.live, now, assume_unique=True)
        await asyncio.to_thread(text.begin)
        try:
            if len(gone):
                await asyncio.to_thread(text.delete, gone)
            written: list[int] = []
            for start in range(0, len(added), PAGE):
                page = added[start:start + PAGE]
                rows = await self.chunks.texts(changed, int(page[0]), int(page[-1]))
                await asyncio.to_thread(text.add, rows, not fresh)
                written += [row[0] for row in rows]
            live = np.union1d(np.setdiff1d(text.live, gone, assume_unique=True), np.asarray(written, np.int64))
            await asyncio.to_thread(text.commit, changed.version, live)
        except BaseException:
            await asyncio.to_thread(text.rollback)
            raise

    def _forget(self, store_id: str, entry: _Entry) -> None:
        self._entries.pop(store_id, None)
        if entry.text is not None:
            entry.text.close()
            entry.text = None
        path = self._path(store_id)
        if path is not None:
            shutil.rmtree(path, ignore_errors=True)
            for extra in (StoreText._sidecar(path), StoreText._dirty(path)):
                extra.unlink(missing_ok=True)

    def close(self) -> None:
        """Releases every writer (and its directory lock)."""
        for entry in self._entries.values():
            if entry.task is not None:
                entry.task.cancel()
            if entry.text is not None:
                entry.text.close()
                entry.text = None
        self._entries.clear()
