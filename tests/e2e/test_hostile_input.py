"""Hostile input against a live server on SQLite and on PostgreSQL: NUL characters
in every stored string, null where an object goes, and nothing half-written when a
request is refused."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import httpx
import openai
import orjson
import pytest

from tests.conftest import VIA_ANTHROPIC, VIA_OPENAI, embedding_models, upstream_models
from tests.fakes import openai_wire as ow
from tests.pg import _dsn, fresh_postgres_url
from tests.server import MASTER_KEY, LiveServer

TABLES = ["vector_stores", "vector_store_files", "conversations", "conversation_items", "responses",
          "response_items", "files", "uploads"]
HEADERS = {"authorization": f"Bearer {MASTER_KEY}", "content-type": "application/json"}


class Db:
    """The live server and a way to count the rows of its database."""

    def __init__(self, live: LiveServer, pg_url: str | None) -> None:
        self.live = live
        self.pg_url = pg_url

    @property
    def url(self) -> str:
        return self.live.url

    def counts(self) -> dict[str, int]:
        if self.pg_url is None:
            with sqlite3.connect(self.live.workdir / "data" / "switchyard.db") as conn:
                return {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES}
        return asyncio.run(self._pg_counts())

    async def _pg_counts(self) -> dict[str, int]:
        conn = await asyncpg.connect(_dsn(self.pg_url or ""))
        try:
            return {t: await conn.fetchval(f"SELECT count(*) FROM {t}") for t in TABLES}
        finally:
            await conn.close()

    def post(self, path: str, body: Any) -> httpx.Response:
        return httpx.post(self.url + path, content=orjson.dumps(body), headers=HEADERS, timeout=60)

    def get(self, path: str) -> httpx.Response:
        return httpx.get(self.url + path, headers=HEADERS, timeout=60)


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
async def db(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, fake_openai,
             fake_anthropic) -> AsyncIterator[Db]:
    models = [*upstream_models(fake_openai, fake_anthropic), *embedding_models(fake_openai)]
    workdir = tmp_path_factory.mktemp(f"hostile-{request.param}")
    if request.param == "sqlite":
        live = LiveServer(workdir, models)
        live.start(wait_ready=True, timeout=60)
        yield Db(live, None)
        live.stop()
        return
    async with fresh_postgres_url() as url:
        live = LiveServer(workdir, models, database_url=url)
        live.start(wait_ready=True, timeout=60)
        yield Db(live, url)
        live.stop()


def _field_named(response: httpx.Response, field: str) -> None:
    assert response.status_code == 400, (field, response.status_code, response.text[:400])
    error = response.json()["error"]
    assert error["param"] == field, (field, error)
    assert "NUL" in error["message"], error


NUL = "a\x00b"


def test_nul_in_names_metadata_and_ids_is_400_naming_the_field_and_writes_nothing(db: Db, fake_openai) -> None:
    store = db.post("/v1/vector_stores", {"name": "kept", "metadata": {"k": "v"}}).json()
    conversation = db.post("/v1/conversations", {"metadata": {"k": "v"}}).json()
    before = db.counts()
    cases = [
        ("/v1/vector_stores", {"name": NUL}, "name"),
        ("/v1/vector_stores", {"name": "ok", "metadata": {"k": NUL}}, "metadata.k"),
        ("/v1/vector_stores", {"name": "ok", "metadata": {NUL: "v"}}, "metadata"),
        ("/v1/vector_stores", {"name": "ok", "file_ids": [f"file-{NUL}"]}, "file_ids[0]"),
        (f"/v1/vector_stores/{store['id']}", {"name": NUL}, "name"),
        (f"/v1/vector_stores/{store['id']}", {"name": "renamed", "metadata": {"k": NUL}}, "metadata.k"),
        (f"/v1/vector_stores/{store['id']}/files", {"file_id": f"file-{NUL}"}, "file_id"),
        (f"/v1/vector_stores/{store['id']}/file_batches", {"file_ids": [f"file-{NUL}"]}, "file_ids[0]"),
        ("/v1/conversations", {"metadata": {"k": NUL}}, "metadata.k"),
        ("/v1/conversations", {"items": [{"type": "message", "role": "user", "content": "hi", "id": NUL}]},
         "items[0].id"),
        (f"/v1/conversations/{conversation['id']}", {"metadata": {"k": NUL}}, "metadata.k"),
        (f"/v1/conversations/{conversation['id']}/items",
         {"items": [{"type": "message", "role": "user", "content": "hi", "id": NUL}]}, "items[0].id"),
        ("/v1/responses", {"model": VIA_OPENAI, "input": "hi", "metadata": {"k": NUL}}, "metadata.k"),
        ("/v1/responses", {"model": VIA_OPENAI, "input": "hi", "previous_response_id": f"resp_{NUL}"},
         "previous_response_id"),
        ("/v1/responses", {"model": VIA_OPENAI, "input": "hi", "conversation": f"conv_{NUL}"}, "conversation"),
        ("/v1/responses", {"model": VIA_OPENAI, "input": [
            {"type": "message", "role": "user", "content": "hi", "id": NUL}]}, "input[0].id"),
    ]
    for path, body, field in cases:
        _field_named(db.post(path, body), field)
    assert db.counts() == before
    assert not fake_openai.received
    kept = db.get(f"/v1/vector_stores/{store['id']}").json()
    assert (kept["name"], kept["metadata"]) == ("kept", {"k": "v"})  # the refused update changed nothing
    assert db.get(f"/v1/conversations/{conversation['id']}").json()["metadata"] == {"k": "v"}


@pytest.mark.parametrize("path", ["/v1/responses/resp_{}", "/v1/responses/resp_{}/input_items",
                                  "/v1/conversations/conv_{}", "/v1/conversations/conv_{}/items",
                                  "/v1/files/file-{}", "/v1/vector_stores/vs_{}", "/v1/vector_stores/vs_{}/files"])
def test_nul_in_a_path_id_is_a_client_error(db: Db, path: str) -> None:
    response = db.get(path.format("%00x"))
    assert 400 <= response.status_code < 500, (path, response.status_code, response.text[:300])
    assert "error" in response.json()


def test_nul_in_instructions_and_input_text_is_stored_and_read_back(db: Db, fake_openai) -> None:
    fake_openai.script(ow.completion("ok"))
    created = db.post("/v1/responses", {"model": VIA_OPENAI, "instructions": f"be {NUL}", "input": f"say {NUL}",
                                        "store": True})
    assert created.status_code == 200, created.text[:400]
    body = created.json()
    assert body["instructions"] == f"be {NUL}"
    assert db.get(f"/v1/responses/{body['id']}").json()["instructions"] == f"be {NUL}"
    items = db.get(f"/v1/responses/{body['id']}/input_items").json()["data"]
    assert items[0]["content"][0]["text"] == f"say {NUL}"
    assert fake_openai.last.body["messages"][-1]["content"] == f"say {NUL}"
    conversation = db.post("/v1/conversations", {"items": [
        {"type": "message", "role": "user", "content": [{"type": "input_text", "text": NUL}]}]})
    assert conversation.status_code == 200, conversation.text[:400]
    listed = db.get(f"/v1/conversations/{conversation.json()['id']}/items").json()["data"]
    assert listed[0]["content"][0]["text"] == NUL


def test_metadata_null_on_a_vector_store_update_leaves_it_unchanged(db: Db) -> None:
    store = db.post("/v1/vector_stores", {"name": "s", "metadata": {"team": "a"}}).json()
    updated = db.post(f"/v1/vector_stores/{store['id']}", {"metadata": None, "name": "t"})
    assert updated.status_code == 200, updated.text[:400]
    assert (updated.json()["name"], updated.json()["metadata"]) == ("t", {"team": "a"})
    assert db.get(f"/v1/vector_stores/{store['id']}").json()["metadata"] == {"team": "a"}


@pytest.mark.parametrize(("body", "field"), [
    ({"metadata": "x"}, "metadata"), ({"metadata": {"k": 5}}, "metadata.k"), ({"metadata": []}, "metadata"),
    ({"metadata": {f"k{i}": "v" for i in range(17)}}, "metadata"), ({"metadata": {"k": "v" * 513}}, "metadata.k"),
    ({"name": "n" * 600}, "name"), ({"name": 5}, "name"),
])
def test_bad_vector_store_updates_are_400_and_change_nothing(db: Db, body: dict, field: str) -> None:
    store = db.post("/v1/vector_stores", {"name": "s", "metadata": {"team": "a"}}).json()
    response = db.post(f"/v1/vector_stores/{store['id']}", {"name": "changed", **body})
    assert response.status_code == 400, response.text[:400]
    assert response.json()["error"]["param"] == field
    kept = db.get(f"/v1/vector_stores/{store['id']}").json()
    assert (kept["name"], kept["metadata"]) == ("s", {"team": "a"})


def _functions(count: int) -> list[dict[str, Any]]:
    return [{"type": "function", "name": f"f{i}", "parameters": {"type": "object", "properties": {}}}
            for i in range(count)]


def test_tools_per_request_are_capped_on_responses(oai, fake_openai) -> None:
    fake_openai.script(ow.completion("fine"))
    assert oai.responses.create(model=VIA_OPENAI, input="hi", tools=_functions(512)).output_text == "fine"
    assert len(fake_openai.last.body["tools"]) == 512
    for tools in (_functions(513), _functions(20_000),
                  [{"type": "namespace", "name": "ns", "description": "d", "tools": _functions(600)}]):
        with pytest.raises(openai.BadRequestError) as caught:
            oai.responses.create(model=VIA_OPENAI, input="hi", tools=tools)
        assert caught.value.body["param"] == "tools" and "at most 512" in caught.value.body["message"]
    assert len(fake_openai.received) == 1


def test_chat_keeps_openais_limit_of_128_functions(oai, fake_openai) -> None:
    chat_tools = [{"type": "function", "function": {"name": f"f{i}"}} for i in range(129)]
    fake_openai.script(ow.completion("fine"))
    oai.chat.completions.create(model=VIA_OPENAI, messages=[{"role": "user", "content": "hi"}], tools=chat_tools[:128])
    with pytest.raises(openai.BadRequestError) as caught:
        oai.chat.completions.create(model=VIA_OPENAI, messages=[{"role": "user", "content": "hi"}], tools=chat_tools)
    assert caught.value.body["param"] == "tools"
    assert len(fake_openai.received) == 1


def test_messages_cap_tools_in_anthropics_error_shape(server, fake_anthropic) -> None:
    tools = [{"name": f"t{i}", "input_schema": {"type": "object"}} for i in range(513)]
    response = httpx.post(server.url + "/v1/messages", timeout=60, content=orjson.dumps(
        {"model": VIA_ANTHROPIC, "max_tokens": 5, "messages": [{"role": "user", "content": "hi"}], "tools": tools}),
        headers={**HEADERS, "anthropic-version": "2023-06-01"})
    assert response.status_code == 400
    body = response.json()
    assert body["type"] == "error" and body["error"]["type"] == "invalid_request_error"
    assert "'tools'" in body["error"]["message"] and "512" in body["error"]["message"]
    assert not fake_anthropic.received


def test_a_text_file_with_nul_bytes_fails_cleanly(db: Db) -> None:
    uploaded = httpx.post(db.url + "/v1/files", headers={"authorization": f"Bearer {MASTER_KEY}"}, timeout=60,
                          data={"purpose": "assistants"},
                          files={"file": ("notes.txt", b"The heron\x00 nests by the river.\n", "text/plain")})
    assert uploaded.status_code == 200, uploaded.text
    store = db.post("/v1/vector_stores", {"name": "nul", "file_ids": [uploaded.json()["id"]]}).json()
    deadline = time.monotonic() + 60
    while (files := db.get(f"/v1/vector_stores/{store['id']}/files").json()["data"])[0]["status"] == "in_progress":
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert files[0]["status"] == "failed"
    assert files[0]["last_error"]["code"] == "invalid_file" and "NUL" in files[0]["last_error"]["message"]
