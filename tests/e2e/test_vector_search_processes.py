"""Two Switchyard processes on one PostgreSQL: what one changes in a vector store, a
search on the other sees at once. Each process caches store matrices and HNSW graphs
(or, with pgvector, none); every search checks them against the store's version in
the database, so no message between processes is needed. Both backends: PostgreSQL
without pgvector (in-process graphs, forced on for any store size) and with it."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator
from pathlib import Path

import openai
import pytest

from tests.conftest import LOCAL_EMBEDDING
from tests.pg import ADMIN_URL, LazyPgvectorServer
from tests.server import MASTER_KEY, LiveServer, postgres_pair

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

LAVA = "Mount Erebus in Antarctica holds a persistent lava lake inside its summit crater."
YEAST = "Sourdough bread rises because wild yeast and lactobacilli ferment the dough overnight."
TIDES = "The moon's gravity pulls the oceans, producing two high tides roughly every 25 hours."


def _client(server: LiveServer) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(base_url=server.url + "/v1", api_key=MASTER_KEY, max_retries=0, timeout=120,
                              _strict_response_validation=True)


async def _attach(client: openai.AsyncOpenAI, store_id: str, name: str, text: str) -> str:
    done = await client.vector_stores.files.upload_and_poll(vector_store_id=store_id,
                                                            file=(name, io.BytesIO(text.encode())))
    assert done.status == "completed", done.last_error
    return done.id


async def _top(client: openai.AsyncOpenAI, store_id: str, query: str) -> list[str]:
    page = await client.vector_stores.search(store_id, query=query, ranking_options={"ranker": "none"})
    return [hit.filename for hit in page.data]


@pytest.fixture(params=["postgres", "pgvector"])
async def two_servers(request: pytest.FixtureRequest, tmp_path: Path,
                      pgvector_admin: LazyPgvectorServer) -> AsyncIterator[tuple[LiveServer, LiveServer]]:
    admin = pgvector_admin.url() if request.param == "pgvector" else ADMIN_URL
    async with postgres_pair(
            tmp_path, lambda path, url: LiveServer(
                path, [{"name": LOCAL_EMBEDDING, "provider": "local", "task": "embedding"}], database_url=url,
                vector_index_min_chunks=0, files_dir=str(tmp_path / "files")),  # either process may index a file
            admin_url=admin, timeout=120) as servers:
        yield servers


async def test_a_change_made_through_one_process_is_searched_on_the_other(
        two_servers: tuple[LiveServer, LiveServer]) -> None:
    a, b = (_client(server) for server in two_servers)
    store = await a.vector_stores.create(name="shared")
    lava = await _attach(a, store.id, "lava.txt", LAVA)
    await _attach(a, store.id, "yeast.txt", YEAST)
    assert (await _top(b, store.id, "volcano with molten rock"))[0] == "lava.txt"
    await asyncio.sleep(1.0)  # b builds its graph for this version in the background
    assert (await _top(b, store.id, "volcano with molten rock"))[0] == "lava.txt"

    await _attach(a, store.id, "tides.txt", TIDES)
    assert (await _top(b, store.id, "ocean tides and the moon"))[0] == "tides.txt"

    deleted = await a.vector_stores.files.delete(lava, vector_store_id=store.id)
    assert deleted.deleted
    assert "lava.txt" not in await _top(b, store.id, "volcano with molten rock")
    assert sorted(await _top(b, store.id, "baking bread by the ocean tides")) == ["tides.txt", "yeast.txt"]
    await a.close()
    await b.close()
