"""Malformed and hostile bodies on every Assistants route answer a 4xx with an OpenAI
error body, never a 500, on live objects as well as missing ones."""

from __future__ import annotations

import httpx
import orjson
import pytest

from tests.e2e import assistants_support
from tests.e2e.assistants_support import CHAT, raw
from tests.e2e.test_no_server_errors import BODIES
from tests.server import LiveServer

echo, server, key = assistants_support.echo, assistants_support.server, assistants_support.key

HOSTILE = [
    *BODIES,
    orjson.dumps({"model": CHAT, "tools": [None, 5, {"type": None}, {"type": "function", "function": []}],
                  "tool_resources": {"file_search": {"vector_stores": [None]}, "code_interpreter": []}}),
    orjson.dumps({"model": CHAT, "tool_resources": {"file_search": {"vector_stores": [
        {"file_ids": [], "chunking_strategy": {"type": "static", "static": {"max_chunk_size_tokens": "x"}}}]}}}),
    orjson.dumps({"role": "user", "content": [None, {"type": "image_url", "image_url": None}],
                  "attachments": [None]}),
    orjson.dumps({"role": "user", "content": "\\u0000", "attachments": [{"file_id": "", "tools": None}]}),
    orjson.dumps({"messages": [None, {"role": "user", "content": {"a": 1}}], "tool_resources": 3,
                  "metadata": {"k": None}}),
    orjson.dumps({"role": "assistant", "content": "x" * 10, "metadata": {"k" * 65: "v"}}),
    orjson.dumps({"model": CHAT, "response_format": {"type": "json_schema", "json_schema": {"name": "a b"}},
                  "temperature": "hot", "top_p": True, "name": ["x"]}),
]


def _paths(server: LiveServer, key: str) -> list[str]:
    assistant = raw(server, key, "POST", "/v1/assistants", json={"model": CHAT}).json()["id"]
    thread = raw(server, key, "POST", "/v1/threads", json={"messages": [{"role": "user", "content": "x"}]}).json()
    message = raw(server, key, "GET", f"/v1/threads/{thread['id']}/messages").json()["data"][0]["id"]
    return ["/v1/assistants", f"/v1/assistants/{assistant}", "/v1/assistants/asst_missing", "/v1/threads",
            f"/v1/threads/{thread['id']}", "/v1/threads/thread_missing", f"/v1/threads/{thread['id']}/messages",
            f"/v1/threads/{thread['id']}/messages/{message}", "/v1/threads/thread_missing/messages/msg_missing"]


def test_hostile_bodies_get_a_4xx(server: LiveServer, key: str) -> None:
    headers = {"authorization": f"Bearer {key}", "content-type": "application/json"}
    for path in _paths(server, key):
        for body in HOSTILE:
            response = httpx.post(server.url + path, content=body, headers=headers, timeout=30)
            assert response.status_code < 500, (path, body[:120], response.text[:300])
            if response.status_code >= 400:
                assert set(response.json()) == {"error"}, (path, body[:120], response.text[:300])


@pytest.mark.parametrize("query", ["limit=abc", "limit=-1", "order=%00", "after=%00", "before=" + "x" * 5000,
                                   "run_id=%00"])
def test_hostile_list_queries(server: LiveServer, key: str, query: str) -> None:
    thread = raw(server, key, "POST", "/v1/threads").json()["id"]
    for path in ("/v1/assistants", f"/v1/threads/{thread}/messages"):
        response = raw(server, key, "GET", f"{path}?{query}")
        assert response.status_code in (200, 400), (path, query, response.text[:300])
        if response.status_code == 200:
            assert response.json()["data"] == []
