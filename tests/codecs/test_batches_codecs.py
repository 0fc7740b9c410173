"""The batch codecs, table-driven: input-file lines, create calls, and objects out."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import orjson
import pytest

from switchyard.codecs import anthropic_batches, openai_batches
from switchyard.core.errors import SwitchyardError

CHAT = "/v1/chat/completions"


def _line(**overrides: Any) -> bytes:
    line = {"custom_id": "a", "method": "POST", "url": CHAT, "body": {"model": "m", "messages": []}, **overrides}
    return orjson.dumps({k: v for k, v in line.items() if v is not None})


@pytest.mark.parametrize(("raw", "code", "param"), [
    (b"", "invalid_json_line", None),
    (b"[1]", "invalid_json_line", None),
    (b"{oops", "invalid_json_line", None),
    (_line(custom_id=""), "invalid_request", "custom_id"),
    (_line(custom_id=7), "invalid_request", "custom_id"),
    (_line(custom_id="x" * 513), "invalid_request", "custom_id"),
    (_line(method="GET"), "invalid_request", "method"),
    (_line(url="/v1/embeddings"), "invalid_url", "url"),
    (_line(body=[]), "invalid_request", "body"),
    (_line(body={"messages": []}), "invalid_request", "body.model"),
    (_line(body={"model": "m", "stream": True}), "invalid_request", "body.stream"),
    (_line(extra=1), "invalid_request", "extra"),
])
def test_a_bad_line_is_named(raw: bytes, code: str, param: str | None) -> None:
    lines, errors = openai_batches.parse_lines([_line(custom_id="ok"), raw], CHAT, 10)
    assert [custom_id for custom_id, _ in lines] == ["ok"]
    assert errors.count == 1
    assert (errors.data[0]["code"], errors.data[0]["param"], errors.data[0]["line"]) == (code, param, 2)


def test_file_level_errors() -> None:
    assert openai_batches.parse_lines([], CHAT, 10)[1].data[0]["code"] == "empty_file"
    many = [_line(custom_id=f"c{n}") for n in range(3)]
    lines, errors = openai_batches.parse_lines(many, CHAT, 2)
    assert errors.data[0]["code"] == "too_many_requests" and len(lines) == 3
    _, dup = openai_batches.parse_lines([_line(), _line()], CHAT, 10)
    assert (dup.data[0]["code"], dup.data[0]["line"]) == ("duplicate_custom_id", 2)


def test_errors_kept_are_bounded_but_all_counted() -> None:
    _, errors = openai_batches.parse_lines([b"x"] * 150, CHAT, 1000)
    assert errors.count == 150 and len(errors.data) == 100


@pytest.mark.parametrize(("body", "param"), [
    ([], "body"),
    ({"endpoint": CHAT, "completion_window": "24h"}, "input_file_id"),
    ({"input_file_id": "f", "completion_window": "24h"}, "endpoint"),
    ({"input_file_id": "f", "endpoint": "/v1/images/generations", "completion_window": "24h"}, "endpoint"),
    ({"input_file_id": "f", "endpoint": CHAT}, "completion_window"),
    ({"input_file_id": "f", "endpoint": CHAT, "completion_window": "1h"}, "completion_window"),
    ({"input_file_id": "f", "endpoint": CHAT, "completion_window": "24h", "metadata": {"k": 1}}, "metadata.k"),
    ({"input_file_id": "f", "endpoint": CHAT, "completion_window": "24h",
      "output_expires_after": {"anchor": "now", "seconds": 3600}}, "output_expires_after.anchor"),
    ({"input_file_id": "f", "endpoint": CHAT, "completion_window": "24h",
      "output_expires_after": {"anchor": "created_at", "seconds": True}}, "output_expires_after.seconds"),
])
def test_a_bad_create_call_names_the_field(body: Any, param: str) -> None:
    with pytest.raises(SwitchyardError) as caught:
        openai_batches.decode_create(body)
    assert caught.value.param == param and caught.value.status == 400


def test_create_call_round_trip() -> None:
    create = openai_batches.decode_create({"input_file_id": "f", "endpoint": CHAT, "completion_window": "24h",
                                           "metadata": {"k": "v"},
                                           "output_expires_after": {"anchor": "created_at", "seconds": 7200}})
    assert create.window_seconds == 86400
    assert create.stored() == {"input_file_id": "f", "completion_window": "24h", "metadata": {"k": "v"},
                               "output_expires_after": 7200}


@pytest.mark.parametrize(("state", "result", "expected"), [
    ("succeeded", {"status_code": 200, "request_id": "r", "body": {"x": 1}},
     {"response": {"status_code": 200, "request_id": "r", "body": {"x": 1}}, "error": None}),
    ("errored", {"status_code": 400, "request_id": "r", "body": {"error": {}}},
     {"response": {"status_code": 400, "request_id": "r", "body": {"error": {}}}, "error": None}),
    ("canceled", {}, {"response": None, "error": {"code": "batch_cancelled", "message": openai_batches.GIVEN_UP[
        "canceled"][1]}}),
    ("expired", {}, {"response": None, "error": {"code": "batch_expired", "message": openai_batches.GIVEN_UP[
        "expired"][1]}}),
])
def test_output_lines(state: str, result: dict[str, Any], expected: dict[str, Any]) -> None:
    assert openai_batches.output_line("batch_req_1", "c", state, result) == {"id": "batch_req_1", "custom_id": "c",
                                                                             **expected}


def _params(**extra: Any) -> dict[str, Any]:
    return {"model": "m", "max_tokens": 5, "messages": [{"role": "user", "content": "hi"}], **extra}


@pytest.mark.parametrize(("body", "prefix"), [
    ("x", "The body"),
    ({}, "requests:"),
    ({"requests": []}, "requests:"),
    ({"requests": [{"custom_id": "a", "params": _params()}], "more": 1}, "more:"),
    ({"requests": ["x"]}, "requests.0:"),
    ({"requests": [{"custom_id": "a b", "params": _params()}]}, "requests.0.custom_id:"),
    ({"requests": [{"custom_id": "a", "params": _params()}, {"custom_id": "a", "params": _params()}]},
     "requests.1.custom_id:"),
    ({"requests": [{"custom_id": "a"}]}, "requests.0.params:"),
    ({"requests": [{"custom_id": "a", "params": _params(), "x": 1}]}, "requests.0.x:"),
    ({"requests": [{"custom_id": "a", "params": _params(stream=True)}]}, "requests.0.params.stream:"),
    ({"requests": [{"custom_id": "a", "params": {"model": "m", "messages": []}}]}, "requests.0.params.max_tokens"),
])
def test_a_bad_message_batch_names_the_field(body: Any, prefix: str) -> None:
    with pytest.raises(SwitchyardError) as caught:
        anthropic_batches.decode_create(body, 100)
    assert caught.value.message.startswith(prefix) and caught.value.status == 400


def test_too_many_message_batch_requests() -> None:
    body = {"requests": [{"custom_id": f"c{n}", "params": _params()} for n in range(3)]}
    with pytest.raises(SwitchyardError, match="at most 2"):
        anthropic_batches.decode_create(body, 2)
    assert [c for c, _ in anthropic_batches.decode_create(body, 3)] == ["c0", "c1", "c2"]


def _record(**fields: Any) -> SimpleNamespace:
    base = {"id": "msgbatch_1", "status": "in_progress", "total": 5, "succeeded": 2, "errored": 1, "canceled": 0,
            "expired": 0, "created_at": 0, "expires_at": 86400, "cancelling_at": None, "ended_at": None,
            "ended": False}
    return SimpleNamespace(**{**base, **fields})


@pytest.mark.parametrize(("fields", "status", "counts", "url"), [
    ({}, "in_progress", (5, 0, 0, 0, 0), None),
    ({"status": "cancelling", "cancelling_at": 5}, "canceling", (5, 0, 0, 0, 0), None),
    ({"status": "cancelled", "ended": True, "ended_at": 9, "canceled": 2}, "ended", (0, 2, 1, 2, 0), "u"),
    ({"status": "completed", "ended": True, "ended_at": 9, "succeeded": 4}, "ended", (0, 4, 1, 0, 0), "u"),
])
def test_message_batch_counts_move_when_it_ends(fields: dict[str, Any], status: str, counts: tuple[int, ...],
                                                 url: str | None) -> None:
    body = anthropic_batches.batch_body(_record(**fields), "u")
    assert body["processing_status"] == status and body["results_url"] == url
    got = body["request_counts"]
    assert (got["processing"], got["succeeded"], got["errored"], got["canceled"], got["expired"]) == counts
    assert body["created_at"] == "1970-01-01T00:00:00Z" and body["expires_at"] == "1970-01-02T00:00:00Z"
