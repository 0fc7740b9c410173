"""Files in, vector stores built, searched, and used by file_search in Responses,
through the official SDK against a live server with the embedded embedder."""

from __future__ import annotations

import io
import json
import time

import openai
import pytest

from tests.conftest import LOCAL, VIA_OPENAI
from tests.e2e.responses_stream_validator import check_stream
from tests.fakes import openai_wire as ow
from tests.server import LiveServer
from tests.tenants import project_key

pytestmark = pytest.mark.slow

DOCS = {
    "volcanoes.md": "# Volcanoes\nMount Erebus in Antarctica holds a persistent lava lake. Its summit rises "
                    "3,794 metres above sea level.",
    "baking.txt": "Sourdough bread rises because wild yeast and lactobacilli ferment the dough overnight.",
    "tides.html": "<html><body><h1>Tides</h1><p>The moon's gravity pulls the oceans, producing two high "
                  "tides roughly every 25 hours.</p><script>ignore()</script></body></html>",
}


def _upload(oai: openai.OpenAI, name: str, text: str) -> str:
    return oai.files.create(file=(name, io.BytesIO(text.encode())), purpose="assistants").id


def _wait_store(oai: openai.OpenAI, store_id: str, timeout: float = 120) -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        store = oai.vector_stores.retrieve(store_id)
        if store.file_counts.in_progress == 0:
            return store
        time.sleep(0.2)
    raise AssertionError(f"vector store {store_id} still ingesting")


@pytest.fixture(scope="module")
def store(server: LiveServer) -> dict:
    oai = openai.OpenAI(base_url=server.url + "/v1", api_key="sk-test-master", max_retries=0, timeout=120,
                        _strict_response_validation=True)
    ids = {name: _upload(oai, name, text) for name, text in DOCS.items()}
    created = oai.vector_stores.create(name="knowledge", file_ids=list(ids.values()), metadata={"team": "a"})
    assert created.status in ("in_progress", "completed") and created.name == "knowledge"
    done = _wait_store(oai, created.id)
    return {"id": created.id, "files": ids, "store": done}


def test_store_ingests_every_file(oai, store) -> None:
    done = store["store"]
    assert done.status == "completed"
    assert done.file_counts.completed == 3 and done.file_counts.failed == 0 and done.file_counts.total == 3
    assert done.usage_bytes > 0
    files = oai.vector_stores.files.list(store["id"], filter="completed")
    assert sorted(f.id for f in files.data) == sorted(store["files"].values())
    content = oai.vector_stores.files.content(store["files"]["tides.html"], vector_store_id=store["id"])
    text = " ".join(part.text for part in content)
    assert "two high tides" in text and "ignore()" not in text


def test_search_finds_the_right_file(oai, store) -> None:
    page = oai.vector_stores.search(store["id"], query="Which volcano has a lava lake?")
    assert page.data[0].filename == "volcanoes.md"
    assert 0 <= page.data[-1].score <= page.data[0].score <= 1
    thresholded = oai.vector_stores.search(store["id"], query="fermented dough",
                                           ranking_options={"score_threshold": 0.99})
    assert all(hit.score >= 0.99 for hit in thresholded.data)


def test_attribute_filters_apply_in_the_query(oai, store) -> None:
    file_id = store["files"]["baking.txt"]
    updated = oai.vector_stores.files.update(file_id, vector_store_id=store["id"],
                                             attributes={"topic": "food", "year": 2024})
    assert updated.attributes == {"topic": "food", "year": 2024}
    page = oai.vector_stores.search(store["id"], query="volcano lava",
                                    filters={"type": "eq", "key": "topic", "value": "food"})
    assert [hit.filename for hit in page.data] == ["baking.txt"]
    none = oai.vector_stores.search(store["id"], query="bread",
                                    filters={"type": "and", "filters": [
                                        {"type": "eq", "key": "topic", "value": "food"},
                                        {"type": "gt", "key": "year", "value": 2030}]})
    assert none.data == []


def test_upload_and_poll_helpers_and_a_failing_file(oai) -> None:
    vs = oai.vector_stores.create(name="mixed")
    ok = oai.vector_stores.files.upload_and_poll(vector_store_id=vs.id,
                                                 file=("notes.md", io.BytesIO(b"# Notes\nKeep calm.")))
    assert ok.status == "completed"
    batch = oai.vector_stores.file_batches.upload_and_poll(vector_store_id=vs.id, files=[
        ("broken.pdf", io.BytesIO(b"%PDF-1.7 this is not really a pdf")),
        ("more.txt", io.BytesIO(b"More text to index.")),
    ])
    assert batch.file_counts.completed == 1 and batch.file_counts.failed == 1
    failed = oai.vector_stores.files.list(vs.id, filter="failed").data
    assert len(failed) == 1 and failed[0].last_error.code in ("invalid_file", "unsupported_file")
    assert failed[0].last_error.message


def test_bad_requests_and_tenancy(oai, server, store) -> None:
    with pytest.raises(openai.NotFoundError):
        oai.vector_stores.create(name="x", file_ids=["file-doesnotexist"])
    with pytest.raises(openai.BadRequestError) as caught:
        oai.vector_stores.search(store["id"], query="x", filters={"type": "between", "key": "a", "value": 1})
    assert caught.value.body["param"].startswith("filters")

    eve = openai.OpenAI(base_url=server.url + "/v1", api_key=project_key(server.url, "eve"), max_retries=0)
    with pytest.raises(openai.NotFoundError):
        eve.vector_stores.retrieve(store["id"])
    with pytest.raises(openai.NotFoundError):
        eve.vector_stores.search(store["id"], query="volcano")
    with pytest.raises(openai.NotFoundError):
        eve.files.retrieve(store["files"]["baking.txt"])


def test_file_search_tool_cites_files(oai, fake_openai, store) -> None:
    fake_openai.script(ow.stream([], tool_calls=[("call_fs", "file_search",
                                                  ['{"queries": ["lava lake volcano"]}'])]),
                       ow.stream(["Mount Erebus has a lava lake."]))
    events = []
    with oai.responses.stream(model=VIA_OPENAI, input="Which volcano has a lava lake?",
                              tools=[{"type": "file_search", "vector_store_ids": [store["id"]]}],
                              include=["file_search_call.results"]) as stream:
        for event in stream:
            events.append(event.model_dump(mode="json", exclude_unset=True))
        final = stream.get_final_response()
    check_stream(events)
    types = [e["type"] for e in events]
    for expected in ("response.file_search_call.in_progress", "response.file_search_call.searching",
                     "response.file_search_call.completed", "response.output_text.annotation.added"):
        assert expected in types, expected
    search = final.output[0]
    assert search.type == "file_search_call" and search.queries == ["lava lake volcano"]
    assert search.results[0].filename == "volcanoes.md"
    message = final.output[-1]
    citations = message.content[0].annotations
    assert any(a.type == "file_citation" and a.file_id == store["files"]["volcanoes.md"] for a in citations)
    passage = fake_openai.received[-1].body["messages"][-1]
    assert passage["role"] == "tool" and "lava lake" in passage["content"]
    assert fake_openai.received[0].body["tools"][0]["function"]["name"] == "file_search"


def test_file_search_on_the_embedded_model(oai, store) -> None:
    response = oai.responses.create(model=LOCAL, input="How tall is Mount Erebus? Answer from the files.",
                                    tools=[{"type": "file_search", "vector_store_ids": [store["id"]]}],
                                    tool_choice={"type": "file_search"}, max_output_tokens=40, temperature=0)
    kinds = [item.type for item in response.output]
    assert kinds[0] == "file_search_call" and "message" in kinds
    assert response.output[0].queries
    assert "3,794" in response.output_text or "3794" in response.output_text
    annotations = response.output[-1].content[0].annotations
    assert any(a.filename == "volcanoes.md" for a in annotations)
    assert json.dumps(response.model_dump())


async def test_files_vector_stores_and_file_search_on_postgresql(tmp_path, fake_openai, fake_anthropic) -> None:
    from tests.conftest import embedding_models, upstream_models
    from tests.pg import fresh_postgres_url

    async with fresh_postgres_url() as url:
        live = LiveServer(tmp_path, [*upstream_models(fake_openai, fake_anthropic), *embedding_models(fake_openai)],
                          database_url=url)
        live.start(wait_ready=True, timeout=90)
        try:
            client = openai.AsyncOpenAI(base_url=live.url + "/v1", api_key="sk-test-master", max_retries=0,
                                        timeout=120, _strict_response_validation=True)
            vs = await client.vector_stores.create(name="pg")
            done = await client.vector_stores.files.upload_and_poll(
                vector_store_id=vs.id, file=("tides.md", io.BytesIO(DOCS["tides.html"].encode())))
            assert done.status == "completed"
            page = await client.vector_stores.search(vs.id, query="moon gravity oceans")
            assert page.data[0].filename == "tides.md"
            fake_openai.script(ow.completion(None, tool_calls=[("c1", "file_search", '{"queries": ["tides"]}')],
                                             finish_reason="tool_calls"),
                               ow.completion("Two high tides a day."))
            response = await client.responses.create(
                model=VIA_OPENAI, input="How many high tides?",
                tools=[{"type": "file_search", "vector_store_ids": [vs.id]}])
            assert [i.type for i in response.output] == ["file_search_call", "message"]
            assert response.output[1].content[0].annotations[0].filename == "tides.md"
            await client.close()
        finally:
            live.stop()


def test_batches_retrieve_cancel_and_404(oai, store) -> None:
    extra = _upload(oai, "extra.txt", "Glaciers carve valleys over thousands of years.")
    batch = oai.vector_stores.file_batches.create(store["id"], file_ids=[extra])
    assert batch.object == "vector_store.files_batch" and batch.file_counts.total == 1
    cancelled = oai.vector_stores.file_batches.cancel(batch.id, vector_store_id=store["id"])
    assert cancelled.id == batch.id and cancelled.status in ("cancelled", "completed")
    assert oai.vector_stores.file_batches.retrieve(batch.id, vector_store_id=store["id"]).status == cancelled.status
    with pytest.raises(openai.NotFoundError):
        oai.vector_stores.file_batches.cancel("vsfb_missing", vector_store_id=store["id"])
    with pytest.raises(openai.NotFoundError):
        oai.vector_stores.file_batches.retrieve("vsfb_missing", vector_store_id=store["id"])
