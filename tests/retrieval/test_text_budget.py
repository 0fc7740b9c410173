"""The bound on full-text candidates (``TEXT_BUDGET``: the rarest words while the chunks
holding them number at most the budget; all the words when even the rarest is over it)
and its fallback to the full query when the bounded one finds fewer than ``k``, on real
SQLite (FTS5, exact counts) and real PostgreSQL with pgvector (``ts_rank_cd``, counts
estimated from the planner's statistics). The results are checked, never timings: the
corpus is built so that the full query ranks differently from the bounded one."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import text

from switchyard.retrieval.chunking import static_strategy
from switchyard.store import Database
from switchyard.store.vector_store_chunks import TEXT_BUDGET, ChunkIndex
from switchyard.store.vector_store_nearest import NearestChunks
from switchyard.store.vector_stores import NewChunk, NewFile, VectorStoreRepository
from tests.pg import LazyPgvectorServer, fresh_postgres_url

VECTOR = b"\x00\x00\x80\x3f"
BUDGET = 10
K = 5
FILLER = " ".join(f"filler{n}" for n in range(60))  # makes a chunk long: each of its words weighs less


@pytest.fixture(params=["sqlite", pytest.param("pgvector", marks=pytest.mark.postgres)])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path,
                       pgvector_admin: LazyPgvectorServer) -> AsyncIterator[str]:
    """The backends where the bound applies (plain PostgreSQL always runs the full query)."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'data' / 'switchyard.db'}"
    else:
        async with fresh_postgres_url(pgvector_admin.url()) as url:
            yield url


async def _store(db: Database, texts: list[str]) -> str:
    """A store of one file whose chunks are ``texts`` in order; the planner's statistics read."""
    repo = VectorStoreRepository(db)
    store = await repo.create("alice", files=[NewFile("file-1", "corpus.txt", static_strategy(), {})])
    claimed = await repo.claim_file("w", 60)
    assert claimed is not None
    assert await repo.complete_file(store.id, claimed.id, "w", [NewChunk(t, len(t.split()), VECTOR) for t in texts])
    if db.dialect == "postgresql":
        async with db.session() as session:
            await session.execute(text("ANALYZE vector_store_chunks"))
    return store.id


async def _search(db: Database, store_id: str, query: str, budget: int | None) -> list[str]:
    """The texts of the best ``K`` full-text matches, best first, as search runs them."""
    if db.dialect == "sqlite":
        hits = await ChunkIndex(db).text_search([store_id], [query], limit=K, budget=budget)
    else:
        assert db.pgvector is not None
        _, [hits] = await NearestChunks(db).hybrid([store_id], np.zeros((0, 1), np.float32), [[query]], K,
                                                   budget=budget)
    chunks = await ChunkIndex(db).chunks([id for id, _ in hits])
    return [chunks[id].text for id, _ in hits]


def _corpus() -> list[str]:
    """100 chunks: ``alpha`` and ``beta`` in 40 each (12 long chunks hold both, the others
    hold one, short and repeated, so the full query ranks them above the long ones);
    ``gamma`` and ``delta`` in 20 each, both together in one chunk only; ``zebra`` in
    one chunk; ``epsilon`` in 15 and ``zeta`` in 30, both in one chunk (the short
    ``zeta`` ones rank above it in the full query); the rest neither."""
    texts = [f"both{n} alpha beta {FILLER}" for n in range(12)]
    texts += [f"onlyalpha{n} alpha alpha alpha" for n in range(27)]
    texts += ["thezebra alpha alpha alpha zebra"]
    texts += [f"onlybeta{n} beta beta beta" for n in range(28)]
    texts += ["gammadelta gamma delta"]
    texts += [f"onlygamma{n} gamma gamma" for n in range(19)]
    texts += [f"onlydelta{n} delta delta" for n in range(19)]
    texts += ["epsilonzeta epsilon zeta " + FILLER]
    texts += [f"onlyepsilon{n} epsilon {FILLER}" for n in range(14)]
    texts += [f"onlyzeta{n} zeta zeta zeta" for n in range(29)]
    return texts + [f"other{n} nothing here" for n in range(100 - len(texts))]


async def test_words_all_over_the_bound_must_all_be_held(database: Database) -> None:
    store_id = await _store(database, _corpus())
    full = await _search(database, store_id, "alpha beta", None)
    assert any(not found.startswith("both") for found in full)  # the full query ranks short one-word chunks high
    bounded = await _search(database, store_id, "alpha beta", BUDGET)
    assert len(bounded) == K and all(found.startswith("both") for found in bounded), bounded


async def test_a_rare_word_found_too_rarely_falls_back_to_the_full_query(database: Database) -> None:
    store_id = await _store(database, _corpus())
    found = await _search(database, store_id, "alpha zebra", BUDGET)
    assert len(found) == K, found  # the rare word alone found one chunk: the full query ran
    assert found[0] == "thezebra alpha alpha alpha zebra"
    assert all("alpha" in chunk for chunk in found)


async def test_all_words_held_too_rarely_falls_back_to_the_full_query(database: Database) -> None:
    store_id = await _store(database, _corpus())
    found = await _search(database, store_id, "gamma delta", BUDGET)
    assert len(found) == K, found  # one chunk holds both: the full query ran
    assert "gammadelta gamma delta" in found
    assert all("gamma" in chunk or "delta" in chunk for chunk in found)


async def test_common_words_held_together_too_rarely_rank_among_the_rarest_words_chunks(tmp_path: Path) -> None:
    """SQLite (exact counts): the bounded query finds too few (every word over the bound and
    too few chunks holding all of them; or the rare words held too rarely): the full query is
    ranked among the chunks of those words and the next rarest, not over every chunk of any word."""
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'anchored.db'}")
    await database.start()
    try:
        store_id = await _store(database, _corpus())
        full = await _search(database, store_id, "zeta epsilon", None)
        assert any("epsilon" not in chunk for chunk in full), full  # short zeta-only chunks rank high
        found = await _search(database, store_id, "zeta epsilon", BUDGET)
        assert len(found) == K and all("epsilon" in chunk for chunk in found), found
        assert found[0].startswith("epsilonzeta"), found[0]
        # the one rare word finds too few: its chunks and the next rarest word's, ranked by the full query
        full = await _search(database, store_id, "zebra epsilon zeta", None)
        assert any("zebra" not in chunk and "epsilon" not in chunk for chunk in full), full
        found = await _search(database, store_id, "zebra epsilon zeta", BUDGET)
        assert len(found) == K and all("zebra" in chunk or "epsilon" in chunk for chunk in found), found
    finally:
        await database.aclose()


async def test_the_default_bound_on_a_word_in_more_chunks_than_it(database: Database) -> None:
    """``TEXT_BUDGET`` itself: a word held by more chunks than the bound, with a rare one."""
    texts = [f"common chunk{n}" for n in range(TEXT_BUDGET + 100)]
    texts[4321] = "common needle here"
    store_id = await _store(database, texts)
    found = await _search(database, store_id, "needle common", TEXT_BUDGET)
    assert len(found) == K and found[0] == "common needle here", found[:2]
    alone = await _search(database, store_id, "common", TEXT_BUDGET)  # one word over the bound: the full query
    assert len(alone) == K and all(chunk.startswith("common") for chunk in alone)
