"""Bad input anywhere answers a 4xx in the surface's own shape, never a 500: every
POST route gets a battery of malformed bodies (some of which are valid for some
routes: an empty body creates a conversation; those must simply not fail)."""

from __future__ import annotations

import json

import httpx
import openai
import orjson
import pytest

from tests.fakes import openai_wire as ow
from tests.server import MASTER_KEY

ROUTES = [
    "/v1/chat/completions", "/v1/completions", "/v1/messages", "/v1/messages/count_tokens", "/v1/responses",
    "/v1/responses/input_tokens", "/v1/responses/compact", "/v1/conversations", "/v1/embeddings", "/v1/rerank",
    "/v1/vector_stores", "/v1/vector_stores/vs_missing/search", "/v1/vector_stores/vs_missing/files",
    "/v1/vector_stores/vs_missing/file_batches", "/v1/uploads", "/v1/batches", "/v1/batches/batch_missing/cancel",
    "/v1/messages/batches", "/v1/messages/batches/msgbatch_missing/cancel", "/v1/assistants",
    "/v1/assistants/asst_missing", "/v1/threads", "/v1/threads/thread_missing",
    "/v1/threads/thread_missing/messages", "/v1/threads/thread_missing/messages/msg_missing",
    "/v1/containers", "/v1/containers/cntr_missing/files",
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
    orjson.dumps({"requests": [{"custom_id": "a", "params": {"model": "gpt-fake", "max_tokens": 5,
                                                             "messages": [None]}},
                               {"custom_id": None, "params": []}], "input_file_id": 5, "endpoint": [],
                  "completion_window": {}, "metadata": [], "output_expires_after": 3}),
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
    "/v1/vector_stores/vs_missing/files?filter=weird", "/v1/models/no-such-model", "/v1/batches?limit=0",
    "/v1/batches/batch_missing", "/v1/messages/batches?limit=5000", "/v1/messages/batches/msgbatch_missing/results",
])
def test_bad_queries_get_4xx(server, path: str) -> None:
    response = httpx.get(server.url + path, headers={"authorization": f"Bearer {MASTER_KEY}"}, timeout=30)
    assert 400 <= response.status_code < 500, (path, response.status_code, response.text[:300])
    assert "error" in response.json()


# --- numbers out of range: every numeric field of every route, 400 naming the field -------------

CHAT = {"model": "gpt-fake", "messages": [{"role": "user", "content": "hi"}]}
COMPLETION = {"model": "gpt-fake", "prompt": "hi"}
MESSAGE = {"model": "claude-fake", "max_tokens": 5, "messages": [{"role": "user", "content": "hi"}]}
RESPONSE = {"model": "gpt-fake", "input": "hi"}
NUMERIC_FIELDS = [
    *(("/v1/chat/completions", CHAT, field) for field in (
        "temperature", "top_p", "max_tokens", "max_completion_tokens", "n", "seed", "presence_penalty",
        "frequency_penalty", "top_logprobs")),
    *(("/v1/completions", COMPLETION, field) for field in (
        "temperature", "top_p", "max_tokens", "n", "seed", "best_of", "logprobs", "presence_penalty",
        "frequency_penalty")),
    *(("/v1/messages", MESSAGE, field) for field in ("max_tokens", "temperature", "top_p", "top_k")),
    *(("/v1/responses", RESPONSE, field) for field in (
        "max_output_tokens", "temperature", "top_p", "top_logprobs", "max_tool_calls")),
    ("/v1/embeddings", {"model": "embed-fake", "input": "hi"}, "dimensions"),
    ("/v1/rerank", {"model": "rerank-fake", "query": "q", "documents": ["a", "b"]}, "top_n"),
    ("/v1/vector_stores", {"name": "n", "expires_after": {"anchor": "last_active_at"}}, "expires_after.days"),
    ("/v1/uploads", {"filename": "a.txt", "purpose": "assistants", "mime_type": "text/plain"}, "bytes"),
]
# 1e23 and -1e23 (floats with an integer value), and 2**64 - 1, which JSON parsers keep as an integer
# but no integer column, upstream or C library takes.
OUT_OF_RANGE = [b"1e23", b"-1e23", b"18446744073709551615", b"1e308"]


def _with(base: dict, field: str, raw_value: bytes) -> bytes:
    """``base`` with ``field`` (dotted) set to a literal JSON number, kept exactly as written."""
    marker = "__NUMBER__"
    body = orjson.loads(orjson.dumps(base))
    target = body
    *parents, leaf = field.split(".")
    for key in parents:
        target = target.setdefault(key, {})
    target[leaf] = marker
    return orjson.dumps(body).replace(f'"{marker}"'.encode(), raw_value)


@pytest.mark.parametrize(("path", "base", "field"), NUMERIC_FIELDS,
                         ids=[f"{p}:{f}" for p, _, f in NUMERIC_FIELDS])
def test_numbers_out_of_range_are_400_naming_the_field(server, fake_openai, fake_anthropic, path: str,
                                                        base: dict, field: str) -> None:
    headers = {"authorization": f"Bearer {MASTER_KEY}", "content-type": "application/json",
               "anthropic-version": "2023-06-01"}
    for raw in OUT_OF_RANGE:
        response = httpx.post(server.url + path, content=_with(base, field, raw), headers=headers, timeout=30)
        # 400, or 413 for a size past the upload limit
        assert response.status_code in (400, 413), (path, field, raw, response.status_code, response.text[:300])
        error = response.json()["error"]
        param = error.get("param") or error.get("message", "")
        assert field in param, (path, field, raw, error)
    assert not fake_openai.received and not fake_anthropic.received  # refused before any upstream call


# --- deep nesting: any JSON field of any route, 400 naming the field, never a 500 or a 502 -------

def _nested(levels: int) -> dict:
    value: dict = {"type": "string"}
    for _ in range(levels):
        value = {"type": "object", "properties": {"a": value}}
    return value


DEEP_FIELDS = ["tools", "input", "messages", "metadata", "response_format", "text", "items", "attributes",
               "filters", "chunking_strategy", "documents", "tool_choice"]


BODY_ROUTES = [r for r in ROUTES if not r.endswith("/cancel")]  # cancelling takes no body: one sent is not read


@pytest.mark.parametrize("path", BODY_ROUTES)
def test_deeply_nested_json_is_400_naming_the_field(server, fake_openai, path: str) -> None:
    headers = {"authorization": f"Bearer {MASTER_KEY}", "content-type": "application/json",
               "anthropic-version": "2023-06-01"}
    for field in DEEP_FIELDS:
        body = {"model": "gpt-fake", "max_tokens": 5, field: [_nested(150)]}
        response = httpx.post(server.url + path, content=json.dumps(body), headers=headers, timeout=30)
        assert response.status_code == 400, (path, field, response.status_code, response.text[:300])
        error = response.json()["error"]
        named = error["param"] if "param" in error else error["message"]  # Anthropic's shape has no param
        assert f"{field}[0]" in named, (path, field, error)
        assert "nested" in error["message"]
    assert not fake_openai.received


def test_a_tool_schema_300_deep_is_400_on_chat_not_a_502(oai, fake_openai) -> None:
    tool = {"type": "function", "function": {"name": "deep", "parameters": _nested(300)}}
    with pytest.raises(openai.BadRequestError) as caught:
        oai.chat.completions.create(model="gpt-fake", messages=[{"role": "user", "content": "hi"}], tools=[tool])
    assert caught.value.body["param"].startswith("tools[0].function.parameters")
    assert not fake_openai.received


def test_reasonably_deep_schemas_still_work(oai, fake_openai) -> None:
    fake_openai.script(ow.completion("fine"))
    tool = {"type": "function", "function": {"name": "deep", "parameters": _nested(20)}}
    answer = oai.chat.completions.create(model="gpt-fake", messages=[{"role": "user", "content": "hi"}],
                                         tools=[tool])
    assert answer.choices[0].message.content == "fine"
    assert fake_openai.last.body["tools"][0]["function"]["parameters"] == _nested(20)


@pytest.mark.slow
@pytest.mark.parametrize(("path", "body"), [
    ("/v1/chat/completions", {"seed": 2**63 - 1, "max_tokens": 1}),
    ("/v1/chat/completions", {"seed": -(2**63), "max_tokens": 1}),
    ("/v1/chat/completions", {"max_tokens": 2**63 - 1, "temperature": 0, "stop": ["."]}),
    ("/v1/completions", {"seed": 2**63 - 1, "max_tokens": 1, "prompt": "x"}),
    ("/v1/messages", {"max_tokens": 1, "top_k": 2**63 - 1}),
    ("/v1/messages", {"max_tokens": 2**63 - 1, "temperature": 0, "stop_sequences": ["."]}),
    ("/v1/responses", {"max_output_tokens": 2**63 - 1, "temperature": 0, "input": "Say hi."}),
])
def test_extreme_numbers_within_range_do_not_break_the_embedded_model(server, path: str, body: dict) -> None:
    headers = {"authorization": f"Bearer {MASTER_KEY}", "content-type": "application/json",
               "anthropic-version": "2023-06-01"}
    full = {"model": "qwen-local", "messages": [{"role": "user", "content": "Say hi."}], **body}
    response = httpx.post(server.url + path, content=orjson.dumps(full), headers=headers, timeout=120)
    assert response.status_code == 200 or response.status_code == 400, (path, body, response.text[:300])
    if response.status_code == 400:
        error = response.json()["error"]
        assert any(key in (error.get("param") or error["message"]) for key in body), error
