"""Bad input anywhere answers a 4xx in the surface's own shape, never a 500: every
POST route gets a battery of malformed bodies (some of which are valid for some
routes: an empty body creates a conversation; those must simply not fail)."""

from __future__ import annotations

import httpx
import orjson
import pytest

from tests.server import MASTER_KEY

ROUTES = [
    "/v1/chat/completions", "/v1/completions", "/v1/messages", "/v1/messages/count_tokens", "/v1/responses",
    "/v1/responses/input_tokens", "/v1/responses/compact", "/v1/conversations", "/v1/embeddings", "/v1/rerank",
    "/v1/vector_stores", "/v1/vector_stores/vs_missing/search", "/v1/vector_stores/vs_missing/files",
    "/v1/vector_stores/vs_missing/file_batches", "/v1/uploads",
]
BODIES = [
    b"", b"null", b"[]", b"42", b'"text"', b"{", b"{}",
    orjson.dumps({"model": None}), orjson.dumps({"model": 7, "messages": 7, "input": 7, "query": 7}),
    orjson.dumps({"model": "gpt-fake", "messages": [None], "input": [None], "max_tokens": 5}),
    orjson.dumps({"model": "gpt-fake", "messages": [{"role": "user", "content": [{"type": 3}]}],
                  "input": [{"type": "message", "role": "user", "content": [{"type": 3}]}], "max_tokens": 5}),
    orjson.dumps({"model": "gpt-fake", "tools": "all", "tool_choice": [], "temperature": [1],
                  "max_tokens": 1e308, "metadata": "x", "stream": "yes", "input": "x", "messages": []}),
    orjson.dumps({"model": "gpt-fake", "input": "x", "previous_response_id": 5, "conversation": {"id": 5}}),
    orjson.dumps({"name": 5, "file_ids": "x", "items": {"a": 1}, "expires_after": {"days": -1},
                  "file_id": 5, "query": {"a": 1}, "filters": [], "documents": "x", "filename": 3, "bytes": -1}),
]


@pytest.mark.parametrize("path", ROUTES)
def test_malformed_bodies_never_get_a_server_error(server, fake_openai, path: str) -> None:
    headers = {"authorization": f"Bearer {MASTER_KEY}", "content-type": "application/json",
               "anthropic-version": "2023-06-01"}
    for body in BODIES:
        response = httpx.post(server.url + path, content=body, headers=headers, timeout=30)
        status = response.status_code
        assert status < 500 or status == 502, (path, body[:120], status, response.text[:300])
        if status >= 400:
            assert "error" in response.json(), (path, body[:120], response.text[:300])
        if status == 502:  # accepted and relayed: the scripted upstream had nothing to answer
            assert fake_openai.received, (path, body[:120])


@pytest.mark.parametrize("path", [
    "/v1/files?limit=abc", "/v1/files?order=sideways", "/v1/vector_stores?limit=0",
    "/v1/vector_stores?order=up", "/v1/responses/resp_missing/input_items?limit=1000",
    "/v1/conversations/conv_missing/items?order=x", "/v1/responses/resp_missing?stream=true&starting_after=x",
    "/v1/vector_stores/vs_missing/files?filter=weird", "/v1/models/no-such-model",
])
def test_bad_queries_get_4xx(server, path: str) -> None:
    response = httpx.get(server.url + path, headers={"authorization": f"Bearer {MASTER_KEY}"}, timeout=30)
    assert 400 <= response.status_code < 500, (path, response.status_code, response.text[:300])
    assert "error" in response.json()
