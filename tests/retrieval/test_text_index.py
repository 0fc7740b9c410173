"""The tantivy full-text indexes of large SQLite stores (``retrieval/text_index.py``) on
real SQLite and real tantivy: the same matches as FTS5's exact query, kept up to date
(added files, detached ones, a reused chunk id), persisted and caught up after a
restart, rebuilt after a crash mid-refresh, filters inside the query, query words
that look like query syntax, empty queries, the FTS5 fallback (a small store, a
directory whose writer lock another holder has), query words close together ranked
first, and PostgreSQL's per-process replicas."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from switchyard.providers.base import Embeddings
from switchyard.retrieval import VectorStoreSearch
from switchyard.retrieval.chunking import static_strategy
from switchyard.retrieval.text_index import SCHEMA, TextIndexes
from switchyard.store import Database
from switchyard.store.vector_store_chunks import ChunkIndex, Comparison
from switchyard.store.vector_stores import NewChunk, NewFile, VectorStoreRepository

VECTOR = b"\x00\x00\x80\x3f"  # one dimension: every chunk equally near, only the full-text decides
FILES = {
    "volcano": ["Mount Erebus holds a persistent lava lake in its crater",
                "lava flows from the volcano volcano volcano down the slopes",
                "the eruption of the volcano threw ash over the town"],
    "bread": ["sourdough bread rises because wild yeast ferments the dough",
              "bake the bread in a hot oven until the crust is brown",
              "the bakery sells bread, cakes and naïve café pastries"],
    "code": ["call os_path join to build a path from parts",
             "the os module and the path module differ: a path is not os",
             "escape the title: field with quotes \"like this\" AND (parentheses)*"],
}


class OneDim:
    dimensions = 1

    async def embed(self, texts: list[str], dimensions: int | None = None) -> Embeddings:
        return Embeddings([[1.0] for _ in texts], 0)

    async def aclose(self) -> None:
        return None


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'data' / 'switchyard.db'}")
    await database.start()
    yield database
    await database.aclose()


async def _add(repo: VectorStoreRepository, store: str, name: str, texts: list[str],
               attributes: dict[str, str | float | bool] | None = None) -> None:
    await repo.add_file(store, "alice", NewFile(f"file-{name}", f"{name}.txt", static_strategy(), attributes or {}))
    claimed = await repo.claim_file("w", 60)
    assert claimed is not None
    assert await repo.complete_file(store, claimed.id, "w", [NewChunk(t, len(t.split()), VECTOR) for t in texts])


async def _store(db: Database, files: dict[str, list[str]] = FILES) -> str:
    repo = VectorStoreRepository(db)
    store = (await repo.create("alice")).id
    for i, (name, texts) in enumerate(files.items()):
        await _add(repo, store, name, texts, {"topic": name, "n": i})
    return store


async def _version(db: Database, store: str) -> int:
    version = await ChunkIndex(db).version(store)
    assert version is not None
    return version


async def _tantivy(indexes: TextIndexes, db: Database, store: str, query: str, k: int = 20,
                   files: set[str] | None = None) -> list[int] | None:
    hits = await indexes.top([(store, await _version(db, store))], [query], k,
                             None if files is None else {store: files})
    return None if hits is None else [id for id, _ in hits]


async def _fts5(db: Database, store: str, query: str, k: int = 20, filters: Comparison | None = None) -> list[int]:
    return [id for id, _ in await ChunkIndex(db).text_search([store], [query], limit=k, budget=None,
                                                             filters=filters)]


QUERIES = ["volcano lava", "bread", "baked breads", "naive cafe", "path", "os_path", "eruption ash town",
           "Crater", "dough yeast oven"]


async def test_the_index_finds_what_fts5_finds_and_follows_the_store(db: Database, tmp_path: Path) -> None:
    store = await _store(db)
    indexes = TextIndexes(ChunkIndex(db), tmp_path / "text", min_chunks=0)
    assert await _tantivy(indexes, db, store, "lava") is None  # not built yet: the caller uses FTS5
    await indexes.refresh(store)
    for query in QUERIES:
        mine = await _tantivy(indexes, db, store, query)
        exact = await _fts5(db, store, query)
        assert mine is not None and set(mine) == set(exact), query
        assert mine[0] == exact[0], query  # the clear winner is the same (stemmed: baked -> bake)
    assert len(await _tantivy(indexes, db, store, "volcano lava", k=2) or []) == 2

    repo = VectorStoreRepository(db)
    await _add(repo, store, "tides", ["the moon pulls the tides of the ocean"])
    assert await _tantivy(indexes, db, store, "tides") is None  # behind the store: FTS5 meanwhile
    await indexes.refresh(store)
    assert await _tantivy(indexes, db, store, "tides") == await _fts5(db, store, "tides")
    assert await repo.delete_file(store, "file-volcano", "alice")
    await indexes.refresh(store)
    assert await _tantivy(indexes, db, store, "volcano lava") == await _fts5(db, store, "volcano lava") == []
    assert await _tantivy(indexes, db, store, "eruption bread") == await _fts5(db, store, "eruption bread")
    # the same file again: SQLite may hand out the deleted ids again, each is indexed once
    await _add(repo, store, "volcano", FILES["volcano"])
    await indexes.refresh(store)
    assert sorted(await _tantivy(indexes, db, store, "volcano lava") or []) == sorted(
        await _fts5(db, store, "volcano lava"))
    indexes.close()


async def test_persisted_read_back_caught_up_and_rebuilt_after_a_crash(db: Database, tmp_path: Path) -> None:
    store = await _store(db)
    first = TextIndexes(ChunkIndex(db), tmp_path / "text", min_chunks=0)
    await first.refresh(store)
    path = tmp_path / "text" / f"{store}.v{SCHEMA}"
    assert path.is_dir() and path.with_name(path.name + ".npz").exists()
    assert not path.with_name(path.name + ".dirty").exists()
    first.close()

    await _add(VectorStoreRepository(db), store, "tides", ["the moon pulls the tides of the ocean"])
    again = TextIndexes(ChunkIndex(db), tmp_path / "text", min_chunks=0)  # a restart
    await again.refresh(store)
    text = again.ready(store, await _version(db, store))
    assert text is not None and text.searcher.num_docs == 10  # the 9 read back, the new one caught up
    assert await _tantivy(again, db, store, "tides bread") == await _fts5(db, store, "tides bread")
    again.close()

    path.with_name(path.name + ".dirty").touch()  # a refresh that never finished
    rebuilt = TextIndexes(ChunkIndex(db), tmp_path / "text", min_chunks=0)
    await rebuilt.refresh(store)
    text = rebuilt.ready(store, await _version(db, store))
    assert text is not None and text.searcher.num_docs == 10
    assert not path.with_name(path.name + ".dirty").exists()
    rebuilt.close()


async def test_filters_restrict_without_changing_scores(db: Database, tmp_path: Path) -> None:
    store = await _store(db)
    indexes = TextIndexes(ChunkIndex(db), None, min_chunks=0)
    await indexes.refresh(store)
    version = await _version(db, store)
    everything = dict(await indexes.top([(store, version)], ["bread path volcano"], 20, None) or [])
    only = await indexes.top([(store, version)], ["bread path volcano"], 20, {store: {"file-bread", "file-code"}})
    assert only and len(only) < len(everything)
    assert all(everything[id] == score for id, score in only)  # the same BM25 scores
    files = await ChunkIndex(db).matching_files([store], Comparison("eq", "topic", "bread"))
    assert await _tantivy(indexes, db, store, "bread path", files=files[store]) == await _fts5(
        db, store, "bread path", filters=Comparison("eq", "topic", "bread"))
    assert await _tantivy(indexes, db, store, "bread", files=set()) == []


async def test_words_never_reach_a_query_syntax_and_empty_queries_match_nothing(db: Database) -> None:
    store = await _store(db)
    indexes = TextIndexes(ChunkIndex(db), None, min_chunks=0)
    await indexes.refresh(store)
    for query in ['title:"like this" AND (parentheses)*', "os_path^2 -module ~1", "field: OR NOT [a TO z]"]:
        assert set(await _tantivy(indexes, db, store, query) or []) == set(await _fts5(db, store, query)), query
    for query in ["", "   ", "!!! ??? ...", ":*()"]:
        assert await _tantivy(indexes, db, store, query) == [] == await _fts5(db, store, query)
    # os_path is one word of two tokens: the phrase "os path", as FTS5 reads it
    assert await _tantivy(indexes, db, store, "os_path") == await _fts5(db, store, "os_path")
    assert len(await _fts5(db, store, "os_path")) == 1


async def test_small_stores_and_locked_directories_use_fts5(db: Database, tmp_path: Path) -> None:
    store = await _store(db)
    small = TextIndexes(ChunkIndex(db), tmp_path / "small", min_chunks=100)
    await small.refresh(store)
    assert await _tantivy(small, db, store, "bread") is None and not (tmp_path / "small").exists()

    holder = TextIndexes(ChunkIndex(db), tmp_path / "text", min_chunks=0)
    await holder.refresh(store)
    search = VectorStoreSearch(db, lambda _: OneDim(), index_dir=tmp_path, ann_min_chunks=0)  # the same directory
    assert search.text is not None
    await search.text.refresh(store)
    assert await _tantivy(search.text, db, store, "bread") is None  # the lock is taken: FTS5
    hits = await search.search([store], "alice", "bread oven", ranking_options={
        "hybrid_search": {"embedding_weight": 0, "text_weight": 1}})
    assert [hit.chunk_id for hit in hits] == (await _fts5(db, store, "bread oven"))[:10]
    assert search.text.answered == 0
    holder.close()
    search.text.close()


async def test_search_answers_from_the_index_with_the_same_hits(db: Database, tmp_path: Path) -> None:
    store = await _store(db)
    search = VectorStoreSearch(db, lambda _: OneDim(), index_dir=tmp_path, ann_min_chunks=0)
    assert search.text is not None
    text_only = {"hybrid_search": {"embedding_weight": 0, "text_weight": 1}}
    before = await search.search([store], "alice", "volcano crater", ranking_options=text_only)  # FTS5
    await search.text.refresh(store)
    after = await search.search([store], "alice", "volcano crater", ranking_options=text_only)
    assert search.text.answered == 1
    # the same matches; their order may differ where the two BM25s do (FTS5's idf is
    # log((N - n + 0.5) / (n + 0.5)), tantivy's log(1 + that), as Lucene's)
    assert sorted(hit.chunk_id for hit in after) == sorted(hit.chunk_id for hit in before)
    assert sorted(hit.score for hit in after) == sorted(hit.score for hit in before)  # the fused scores' contract
    filtered = await search.search([store], "alice", "bread path", ranking_options=text_only,
                                   filters={"type": "eq", "key": "topic", "value": "code"})
    assert {hit.file_id for hit in filtered} == {"file-code"} and search.text.answered == 2
    # the files a filter matches are kept per store version: changing a file's attributes moves it
    repo = VectorStoreRepository(db)
    assert await repo.update_file_attributes(store, "file-bread", "alice", {"topic": "code"}) is not None
    await search.text.refresh(store)
    filtered = await search.search([store], "alice", "bread path", ranking_options=text_only,
                                   filters={"type": "eq", "key": "topic", "value": "code"})
    assert {hit.file_id for hit in filtered} == {"file-code", "file-bread"} and search.text.answered == 3
    search.text.close()


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgres", "pgvector"], indirect=True)
async def test_postgresql_processes_answer_from_their_own_replica(database_url: str, tmp_path: Path) -> None:
    """On PostgreSQL each process keeps its own index of a large store (in its own data
    directory), caught up from the store's version: the same matches as ``ts_rank_cd``
    (the words here are no stop words, which PostgreSQL drops and tantivy ranks low),
    filters inside the query, and SQL again while a replica is behind the store."""
    db = Database(database_url)
    await db.start()
    try:
        store = await _store(db)
        text_only = {"hybrid_search": {"embedding_weight": 0, "text_weight": 1}}
        one, two = (VectorStoreSearch(db, lambda _: OneDim(), index_dir=tmp_path / name, ann_min_chunks=0)
                    for name in ("process-1", "process-2"))
        before = await one.search([store], "alice", "volcano crater bread", ranking_options=text_only)  # SQL
        assert one.text is not None and two.text is not None and one.text.answered == 0
        for search in (one, two):
            await search.text.refresh(store)  # type: ignore[union-attr]
        for search in (one, two):
            after = await search.search([store], "alice", "volcano crater bread", ranking_options=text_only)
            assert sorted(hit.chunk_id for hit in after) == sorted(hit.chunk_id for hit in before)
            assert search.text.answered == 1  # type: ignore[union-attr]
        assert (tmp_path / "process-1" / "text" / f"{store}.v{SCHEMA}").is_dir()
        assert (tmp_path / "process-2" / "text" / f"{store}.v{SCHEMA}").is_dir()

        filtered = await one.search([store], "alice", "bread path volcano", ranking_options=text_only,
                                    filters={"type": "eq", "key": "topic", "value": "code"})
        assert {hit.file_id for hit in filtered} == {"file-code"} and one.text.answered == 2
        hybrid = await one.search([store], "alice", "lava crater")  # vector and full-text lists fused
        assert one.text.answered == 3 and "file-volcano" in {hit.file_id for hit in hybrid}
        await _add(VectorStoreRepository(db), store, "tides", ["the moon pulls the tides of the ocean"])
        # SQL, a refresh asked for (the replica answered only for the version this process had
        # read, while the search read the new one: those lists were dropped)
        behind = await two.search([store], "alice", "tides", ranking_options=text_only)
        assert [hit.file_id for hit in behind] == ["file-tides"] and two.text.answered == 2
        await two.text.refresh(store)
        caught_up = await two.search([store], "alice", "tides moon", ranking_options=text_only)
        assert [hit.file_id for hit in caught_up] == ["file-tides"] and two.text.answered == 3
        for search in (one, two):
            search.text.close()  # type: ignore[union-attr]
    finally:
        await db.aclose()


async def test_query_words_close_together_rank_first_and_match_nothing_more(db: Database) -> None:
    filler = " ".join(["plain"] * 12)  # every chunk below has 27 words: BM25 alone ties the three
    store = await _store(db, {"far": [f"greatest {filler} divisor {filler} common"],
                              "near": [f"greatest common divisor {filler} {filler}"],
                              "reversed": [f"divisor common greatest {filler} {filler}"],
                              "one": [f"greatest plain {filler} {filler}"]})
    indexes = TextIndexes(ChunkIndex(db), None, min_chunks=0)
    await indexes.refresh(store)
    version = await _version(db, store)
    hits = await indexes.top([(store, version)], ["greatest common divisor"], 10, None) or []
    files = await ChunkIndex(db).chunks([id for id, _ in hits])
    scores = {files[id].file_id: score for id, score in hits}
    assert scores["file-near"] > scores["file-far"] and scores["file-reversed"] > scores["file-far"]
    assert scores["file-far"] > scores["file-one"]
    assert sorted(id for id, _ in hits) == sorted(await _fts5(db, store, "greatest common divisor"))
    indexes.close()
