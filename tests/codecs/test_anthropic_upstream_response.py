"""decode_response and StreamDecoder: Anthropic answers → canonical events."""

# ruff: noqa: E501 - SSE transcripts are copied verbatim, one event per line

from __future__ import annotations

import json
from typing import Any

import pytest

from switchyard.codecs.anthropic_messages import (
    StreamDecoder,
    StreamEncoder,
    decode_response,
    encode_result,
)
from switchyard.core.errors import ErrorKind, SwitchyardError
from switchyard.core.events import (
    ArgumentsDelta,
    BlockStart,
    BlockStop,
    Event,
    Failure,
    Finish,
    ItemDone,
    ReasoningDelta,
    SignatureDelta,
    Start,
    TextDelta,
    UsageReport,
)
from switchyard.core.items import FunctionCall, Message, Reasoning, TextPart
from switchyard.core.result import fold
from switchyard.core.tool_items import VendorItem
from switchyard.core.usage import Usage
from tests.spec_anthropic import validate_anthropic, validate_anthropic_event

SERVER_TOOL_USE = {"type": "server_tool_use", "id": "srvtoolu_1", "name": "web_search", "input": {"query": "x"}}
MESSAGE = {
    "id": "msg_01", "type": "message", "role": "assistant", "model": "claude-sonnet-4-5",
    "content": [
        {"type": "thinking", "thinking": "Paris weather", "signature": "EqQBCg"},
        {"type": "redacted_thinking", "data": "EmwKAhgB"},
        {"type": "text", "text": "Checking.", "citations": None},
        SERVER_TOOL_USE,
        {"type": "tool_use", "id": "toolu_01", "name": "get_weather",
         "input": {"location": "Paris"}, "caller": {"type": "direct"}},
    ],
    "stop_reason": "tool_use", "stop_sequence": None, "stop_details": None, "container": None,
    "usage": {"input_tokens": 10, "output_tokens": 50, "cache_read_input_tokens": 100,
              "cache_creation_input_tokens": 20, "cache_creation": None,
              "server_tool_use": None, "service_tier": "standard", "inference_geo": None,
              "output_tokens_details": {"thinking_tokens": 30}},
}
USAGE = Usage(input_tokens=130, output_tokens=50, cached_input_tokens=100,
              cache_creation_input_tokens=20, reasoning_tokens=30)


def test_decode_response() -> None:
    events = decode_response(MESSAGE)
    assert events == [
        Start(id="msg_01", model="claude-sonnet-4-5", usage=USAGE),
        BlockStart(0, "reasoning"), ReasoningDelta(0, "Paris weather"),
        SignatureDelta(0, "EqQBCg"), BlockStop(0),
        BlockStart(1, "reasoning", encrypted="EmwKAhgB"), BlockStop(1),
        BlockStart(2, "text"), TextDelta(2, "Checking."), BlockStop(2),
        ItemDone(VendorItem("anthropic", SERVER_TOOL_USE)),
        BlockStart(4, "tool_call", call_id="toolu_01", name="get_weather"),
        ArgumentsDelta(4, '{"location": "Paris"}'), BlockStop(4),
        UsageReport(USAGE),
        Finish("tool_calls"),
    ]
    result = fold(events)
    assert result.choices[0].items == [
        Reasoning(text="Paris weather", signature="EqQBCg"),
        Reasoning(encrypted="EmwKAhgB"),
        Message(role="assistant", content=[TextPart("Checking.")]),
        VendorItem("anthropic", SERVER_TOOL_USE),
        FunctionCall(call_id="toolu_01", name="get_weather", arguments='{"location": "Paris"}'),
    ]


def test_decode_encode_round_trip() -> None:
    """Upstream message → events → fold → client message gives the same content back,
    server tool blocks included."""
    out = encode_result(fold(decode_response(MESSAGE)), id="msg_01", model="claude-sonnet-4-5")
    validate_anthropic(out, "Message")
    expected = [{k: v for k, v in b.items() if (k, v) != ("citations", None)}  # null citations: left out
                for b in MESSAGE["content"]]
    assert out["content"] == expected
    for key in ("input_tokens", "output_tokens", "cache_read_input_tokens",
                "cache_creation_input_tokens"):
        assert out["usage"][key] == MESSAGE["usage"][key]


@pytest.mark.parametrize(("stop_reason", "seq", "finish"), [
    ("end_turn", None, Finish("stop")),
    ("stop_sequence", "###", Finish("stop", "###")),
    ("max_tokens", None, Finish("length")),
    ("model_context_window_exceeded", None, Finish("length")),
    ("tool_use", None, Finish("tool_calls")),
    ("refusal", None, Finish("content_filter")),
    ("pause_turn", None, Finish("pause")),
    (None, None, Finish("stop")),
])
def test_stop_reasons(stop_reason: str | None, seq: str | None, finish: Finish) -> None:
    body = {"id": "m", "model": "x", "content": [], "stop_reason": stop_reason,
            "stop_sequence": seq, "usage": {"input_tokens": 1, "output_tokens": 1}}
    assert decode_response(body)[-1] == finish


def sse(text: str) -> list[tuple[str, dict[str, Any]]]:
    """Parse an SSE transcript as Anthropic sends it."""
    events = []
    for chunk in text.strip().split("\n\n"):
        lines = dict(line.split(": ", 1) for line in chunk.strip().splitlines())
        events.append((lines["event"], json.loads(lines["data"])))
    return events


# Shapes from Anthropic's streaming documentation (docs.claude.com/en/docs/build-with-claude/streaming).
TEXT_STREAM = """
event: message_start
data: {"type": "message_start", "message": {"id": "msg_1nZdL29xx5MUA1yADyHTEsnR8uuvGzszyY", "type": "message", "role": "assistant", "content": [], "model": "claude-opus-4-6", "stop_reason": null, "stop_sequence": null, "usage": {"input_tokens": 25, "output_tokens": 1}}}

event: content_block_start
data: {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}

event: ping
data: {"type": "ping"}

event: content_block_delta
data: {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Hello"}}

event: content_block_delta
data: {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "!"}}

event: content_block_stop
data: {"type": "content_block_stop", "index": 0}

event: message_delta
data: {"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence":null}, "usage": {"output_tokens": 15}}

event: message_stop
data: {"type": "message_stop"}
"""

TOOL_STREAM = """
event: message_start
data: {"type":"message_start","message":{"id":"msg_014p7gG3wDgGV9EUtLvnow3U","type":"message","role":"assistant","model":"claude-opus-4-6","stop_sequence":null,"usage":{"input_tokens":472,"output_tokens":2},"content":[],"stop_reason":null}}

event: content_block_start
data: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}

event: content_block_delta
data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Okay"}}

event: content_block_stop
data: {"type":"content_block_stop","index":0}

event: content_block_start
data: {"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"toolu_01T1x1fJ34qAmk2tNTrN7Up6","name":"get_weather","input":{}}}

event: content_block_delta
data: {"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":""}}

event: content_block_delta
data: {"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\\"location\\":"}}

event: content_block_delta
data: {"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":" \\"San Francisco, CA\\"}"}}

event: content_block_stop
data: {"type":"content_block_stop","index":1}

event: message_delta
data: {"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},"usage":{"output_tokens":89}}

event: message_stop
data: {"type":"message_stop"}
"""

THINKING_STREAM = """
event: message_start
data: {"type": "message_start", "message": {"id": "msg_01", "type": "message", "role": "assistant", "content": [], "model": "claude-sonnet-4-5", "stop_reason": null, "stop_sequence": null, "usage": {"input_tokens": 50, "cache_read_input_tokens": 200, "cache_creation_input_tokens": 0, "output_tokens": 1}}}

event: content_block_start
data: {"type": "content_block_start", "index": 0, "content_block": {"type": "thinking", "thinking": "", "signature": ""}}

event: content_block_delta
data: {"type": "content_block_delta", "index": 0, "delta": {"type": "thinking_delta", "thinking": "I need to find the GCD of 1071 and 462."}}

event: content_block_delta
data: {"type": "content_block_delta", "index": 0, "delta": {"type": "thinking_delta", "thinking": "\\n\\n1071 = 2 * 462 + 147"}}

event: content_block_delta
data: {"type": "content_block_delta", "index": 0, "delta": {"type": "signature_delta", "signature": "EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds"}}

event: content_block_stop
data: {"type": "content_block_stop", "index": 0}

event: content_block_start
data: {"type": "content_block_start", "index": 1, "content_block": {"type": "text", "text": ""}}

event: content_block_delta
data: {"type": "content_block_delta", "index": 1, "delta": {"type": "text_delta", "text": "The greatest common divisor of 1071 and 462 is **21**."}}

event: content_block_delta
data: {"type": "content_block_delta", "index": 1, "delta": {"type": "citations_delta", "citation": {"type": "char_location", "cited_text": "x", "document_index": 0, "document_title": null, "start_char_index": 0, "end_char_index": 1}}}

event: content_block_stop
data: {"type": "content_block_stop", "index": 1}

event: message_delta
data: {"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence": null}, "usage": {"output_tokens": 400}}

event: message_stop
data: {"type": "message_stop"}
"""


def decode_stream(text: str) -> list[Event]:
    decoder = StreamDecoder()
    events: list[Event] = []
    for name, data in sse(text):
        events += decoder.feed(name, data)
    events += decoder.close()
    return events


def test_text_stream() -> None:
    events = decode_stream(TEXT_STREAM)
    assert events == [
        Start(id="msg_1nZdL29xx5MUA1yADyHTEsnR8uuvGzszyY", model="claude-opus-4-6",
              usage=Usage(input_tokens=25, output_tokens=1)),
        BlockStart(0, "text"), TextDelta(0, "Hello"), TextDelta(0, "!"), BlockStop(0),
        UsageReport(Usage(input_tokens=25, output_tokens=15)),
        Finish("stop"),
    ]


def test_tool_stream() -> None:
    events = decode_stream(TOOL_STREAM)
    assert events[4] == BlockStart(1, "tool_call", call_id="toolu_01T1x1fJ34qAmk2tNTrN7Up6",
                                   name="get_weather")
    result = fold(events)
    call = result.choices[0].tool_calls()[0]
    assert json.loads(call.arguments) == {"location": "San Francisco, CA"}
    assert result.choices[0].finish_reason == "tool_calls"
    assert result.usage == Usage(input_tokens=472, output_tokens=89)


def test_thinking_stream() -> None:
    result = fold(decode_stream(THINKING_STREAM))
    [reasoning] = result.choices[0].reasoning()
    assert reasoning.text == "I need to find the GCD of 1071 and 462.\n\n1071 = 2 * 462 + 147"
    assert reasoning.signature == "EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds"
    assert result.choices[0].text() == "The greatest common divisor of 1071 and 462 is **21**."
    assert result.usage == Usage(input_tokens=250, output_tokens=400, cached_input_tokens=200)


@pytest.mark.parametrize("transcript", [TEXT_STREAM, TOOL_STREAM, THINKING_STREAM])
def test_stream_relay_is_faithful(transcript: str) -> None:
    """Anthropic stream → canonical → StreamEncoder gives back the same blocks and deltas."""
    encoder = StreamEncoder(id="msg_x", model="claude-x")
    out = []
    for event in decode_stream(transcript):
        out += encoder.feed(event)
    out += encoder.close()
    for name, data in out:
        validate_anthropic_event(name, data)

    def essentials(events: list[tuple[str, dict[str, Any]]]) -> list[Any]:
        keep = []
        for name, data in events:
            if name == "content_block_delta" and data["delta"]["type"] != "citations_delta":
                keep.append((data["index"], data["delta"]))
            elif name == "message_delta":
                keep.append((data["delta"]["stop_reason"], data["usage"]["output_tokens"]))
            elif name in ("content_block_stop", "message_stop"):
                keep.append(name)
        return keep

    assert essentials(out) == essentials(sse(transcript))


def test_server_tool_blocks_come_whole_and_unknown_events_are_skipped() -> None:
    decoder = StreamDecoder()
    assert decoder.feed("content_block_start", {
        "type": "content_block_start", "index": 0,
        "content_block": {"type": "server_tool_use", "id": "s", "name": "web_search",
                          "input": {}}}) == []
    for part in ('{"query": ', '"q"}'):
        assert decoder.feed("content_block_delta", {
            "type": "content_block_delta", "index": 0,
            "delta": {"type": "input_json_delta", "partial_json": part}}) == []
    assert decoder.feed("content_block_stop", {"type": "content_block_stop", "index": 0}) == [
        ItemDone(VendorItem("anthropic", {"type": "server_tool_use", "id": "s", "name": "web_search",
                                          "input": {"query": "q"}}))]
    result = {"type": "web_search_tool_result", "tool_use_id": "s", "content": []}
    assert decoder.feed("content_block_start", {"type": "content_block_start", "index": 1,
                                                "content_block": result}) == []
    assert decoder.feed("content_block_stop", {"type": "content_block_stop", "index": 1}) == [
        ItemDone(VendorItem("anthropic", result))]
    assert decoder.feed("some_future_event", {"type": "some_future_event"}) == []
    assert decoder.feed("ping", {"type": "ping"}) == []


def test_message_delta_usage_overrides_start() -> None:
    decoder = StreamDecoder()
    decoder.feed("message_start", {"type": "message_start", "message": {
        "id": "m", "model": "x", "usage": {"input_tokens": 5, "output_tokens": 1}}})
    events = decoder.feed("message_delta", {
        "type": "message_delta", "delta": {"stop_reason": "max_tokens", "stop_sequence": None},
        "usage": {"output_tokens": 7, "input_tokens": 9, "cache_read_input_tokens": 3,
                  "cache_creation_input_tokens": None}})
    assert events == [UsageReport(Usage(input_tokens=12, output_tokens=7, cached_input_tokens=3)),
                      Finish("length")]


@pytest.mark.parametrize(("error_type", "kind"), [
    ("overloaded_error", ErrorKind.OVERLOADED),
    ("rate_limit_error", ErrorKind.RATE_LIMIT),
    ("invalid_request_error", ErrorKind.INVALID_REQUEST),
    ("authentication_error", ErrorKind.AUTHENTICATION),
    ("permission_error", ErrorKind.PERMISSION),
    ("not_found_error", ErrorKind.NOT_FOUND),
    ("request_too_large", ErrorKind.REQUEST_TOO_LARGE),
    ("timeout_error", ErrorKind.TIMEOUT),
    ("billing_error", ErrorKind.QUOTA),
    ("api_error", ErrorKind.UPSTREAM),
    ("brand_new_error", ErrorKind.UPSTREAM),
])
def test_error_event(error_type: str, kind: ErrorKind) -> None:
    decoder = StreamDecoder()
    decoder.feed("message_start", {"type": "message_start", "message": {"id": "m"}})
    [failure] = decoder.feed("error", {"type": "error",
                                       "error": {"type": error_type, "message": "Overloaded"}})
    assert isinstance(failure, Failure)
    assert failure.error.kind == kind and failure.error.message == "Overloaded"
    assert decoder.feed("message_stop", {"type": "message_stop"}) == []
    assert decoder.close() == []


def test_truncated_stream_fails_at_close() -> None:
    decoder = StreamDecoder()
    decoder.feed("message_start", {"type": "message_start", "message": {"id": "m"}})
    [failure] = decoder.close()
    assert isinstance(failure, Failure) and failure.error.kind == ErrorKind.UPSTREAM
    with pytest.raises(SwitchyardError):
        fold([failure])


def test_message_stop_without_stop_reason_still_finishes() -> None:
    decoder = StreamDecoder()
    decoder.feed("message_start", {"type": "message_start", "message": {"id": "m"}})
    assert decoder.feed("message_stop", {"type": "message_stop"}) == [Finish("stop")]
    assert decoder.close() == []


def test_event_name_falls_back_to_data_type() -> None:
    decoder = StreamDecoder()
    [start] = decoder.feed("", {"type": "message_start", "message": {"id": "m", "model": "x"}})
    assert start == Start(id="m", model="x", usage=Usage())
