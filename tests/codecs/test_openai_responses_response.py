"""build_response: the wire Response, validated against the SDK and the spec."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from openai.types.responses import Response

from switchyard.codecs.openai_responses import (
    build_response,
    decode_request,
    encode_error,
    items_to_output,
    mcp_error,
    response_error,
)
from switchyard.core.errors import ErrorKind, SwitchyardError, invalid
from switchyard.core.items import FunctionCall, Message, Reasoning, TextPart
from switchyard.core.usage import Usage
from tests.spec import validate_openai

SCHEMA = {"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"],
          "additionalProperties": False}


def ids():
    counter = itertools.count(1)
    return lambda prefix: f"{prefix}{next(counter)}"


def call_of(**body: Any):
    return decode_request({"model": "gpt-test", **body}, new_item_id=ids())


def valid(obj: dict[str, Any]) -> Response:
    validate_openai(obj, "Response")
    assert "output_text" not in obj
    return Response.model_validate(obj)


OUTPUT = [
    *items_to_output([Reasoning(text="think", signature="SIG"),
                      Message("assistant", [TextPart("Hello")]),
                      FunctionCall("call_1", "f", "{\"a\":\"b\"}")], ids()),
    {"id": "mcpl_1", "type": "mcp_list_tools", "server_label": "docs",
     "tools": [{"name": "search", "description": "Search", "input_schema": {"type": "object"},
                "annotations": None}], "error": None},
    {"id": "mcp_1", "type": "mcp_call", "server_label": "docs", "name": "search", "arguments": "{}",
     "output": "found", "error": None, "status": "completed"},
    {"id": "mcp_2", "type": "mcp_call", "server_label": "docs", "name": "search", "arguments": "{}",
     "output": None, "error": mcp_error("boom"), "status": "failed"},
    {"id": "mcpr_1", "type": "mcp_approval_request", "server_label": "docs", "name": "search",
     "arguments": "{}"},
]


def test_defaults_are_echoed_as_openai_does():
    body = build_response(call_of(input="hi"), id="resp_1", created_at=1700000000, status="in_progress", output=[])
    sdk = valid(body)
    assert body["text"] == {"format": {"type": "text"}, "verbosity": "medium"}
    assert body["reasoning"] == {"effort": None, "summary": None}
    assert (body["temperature"], body["top_p"], body["top_logprobs"]) == (1.0, 1.0, 0)
    assert (body["parallel_tool_calls"], body["truncation"], body["service_tier"]) == (True, "disabled", "default")
    assert (body["tool_choice"], body["tools"], body["metadata"]) == ("auto", [], {})
    assert (body["conversation"], body["error"], body["completed_at"]) == (None, None, None)
    assert body["usage"] is None and "user" not in body
    assert (body["presence_penalty"], body["frequency_penalty"]) == (0.0, 0.0)
    assert (body["store"], body["background"], body["object"]) == (True, False, "response")
    assert sdk.output_text == ""


def test_full_response_with_every_output_kind():
    call = call_of(
        input="hi", instructions="be nice", conversation={"id": "conv_1"}, store=True, background=True,
        tools=[{"type": "function", "name": "f", "parameters": SCHEMA},
               {"type": "mcp", "server_label": "docs", "server_url": "https://mcp.test/mcp",
                "headers": {"Authorization": "Bearer x"}, "allowed_tools": ["search"]}],
        tool_choice={"type": "function", "name": "f"}, parallel_tool_calls=False, max_tool_calls=4,
        text={"format": {"type": "json_schema", "name": "out", "schema": SCHEMA, "strict": True}},
        reasoning={"effort": "low", "summary": "auto"}, max_output_tokens=100, temperature=0.2, top_p=0.5,
        top_logprobs=3, truncation="auto", metadata={"k": "v"}, user="u", safety_identifier="s",
        prompt_cache_key="p", service_tier="priority",
    )
    usage = Usage(input_tokens=10, output_tokens=5, cached_input_tokens=2, cache_creation_input_tokens=1,
                  reasoning_tokens=3)
    body = build_response(call, id="resp_2", created_at=1700000000, status="completed", output=OUTPUT, usage=usage,
                          completed_at=1700000005)
    sdk = valid(body)
    assert sdk.output_text == "Hello"
    assert body["usage"] == {"input_tokens": 10, "input_tokens_details": {"cached_tokens": 2, "cache_write_tokens": 1},
                             "output_tokens": 5, "output_tokens_details": {"reasoning_tokens": 3},
                             "total_tokens": 15}
    assert body["conversation"] == {"id": "conv_1"}
    assert body["tools"][0]["strict"] is True
    assert body["tools"][1]["headers"] is None
    assert body["tool_choice"] == {"type": "function", "name": "f"}
    assert body["text"]["format"]["name"] == "out"
    assert body["reasoning"] == {"effort": "low", "summary": "auto"}
    assert (body["service_tier"], body["max_tool_calls"], body["top_logprobs"]) == ("priority", 4, 3)


@pytest.mark.parametrize(("status", "extra"), [
    ("queued", {}),
    ("cancelled", {}),
    ("incomplete", {"incomplete_details": {"reason": "max_output_tokens"}}),
    ("incomplete", {"incomplete_details": {"reason": "content_filter"}}),
    ("failed", {"error": response_error(SwitchyardError(ErrorKind.UPSTREAM, "upstream broke"))}),
    ("failed", {"error": response_error(SwitchyardError(ErrorKind.RATE_LIMIT, "slow down"))}),
    ("failed", {"error": response_error(invalid("bad prompt"))}),
])
def test_terminal_states(status, extra):
    body = build_response(call_of(), id="resp_3", created_at=1, status=status, output=[], usage=Usage(), **extra)
    assert valid(body).status == status


@pytest.mark.parametrize(("tool_choice", "tools"), [
    ("none", []),
    ("required", [{"type": "function", "name": "f"}]),
    ({"type": "mcp", "server_label": "docs", "name": "search"},
     [{"type": "mcp", "server_label": "docs", "server_url": "https://mcp.test/mcp",
       "require_approval": {"never": {"tool_names": ["search"]}}}]),
    ({"type": "allowed_tools", "mode": "auto", "tools": [{"type": "function", "name": "f"}]},
     [{"type": "function", "name": "f", "description": "d"}]),
])
def test_tool_echoes_validate(tool_choice, tools):
    body = build_response(call_of(tools=tools, tool_choice=tool_choice), id="r", created_at=1, status="completed",
                          output=[])
    valid(body)


@pytest.mark.parametrize("fmt", [{"type": "text"}, {"type": "json_object"}])
def test_text_format_echo(fmt):
    body = build_response(call_of(text={"format": fmt}), id="r", created_at=1, status="completed", output=[])
    assert valid(body).text.format.type == fmt["type"]


def test_unknown_status_is_a_bug():
    with pytest.raises(ValueError):
        build_response(call_of(), id="r", created_at=1, status="done", output=[])


def test_encode_error_is_the_openai_envelope():
    assert encode_error(invalid("Missing 'model'.", "model", "missing_required_parameter")) == {
        "error": {"message": "Missing 'model'.", "type": "invalid_request_error", "param": "model",
                  "code": "missing_required_parameter"}}
