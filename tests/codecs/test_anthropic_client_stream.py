"""StreamEncoder: canonical events → Anthropic Messages SSE events."""

from __future__ import annotations

from typing import Any

import anthropic
import pytest
from anthropic.lib.streaming._messages import accumulate_event

from switchyard.codecs.anthropic_messages import StreamEncoder
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
    RefusalDelta,
    SignatureDelta,
    Start,
    TextDelta,
    UsageReport,
)
from switchyard.core.tool_items import VendorItem
from switchyard.core.usage import Usage
from tests.spec_anthropic import validate_anthropic_event

SSE = tuple[str, dict[str, Any]]


def run(events: list[Event]) -> list[SSE]:
    encoder = StreamEncoder(id="msg_1", model="claude-x")
    out: list[SSE] = []
    for event in events:
        out += encoder.feed(event)
    out += encoder.close()
    assert encoder.close() == []
    for name, data in out:
        validate_anthropic_event(name, data)
    return out


def sdk_message(out: list[SSE]) -> anthropic.types.Message:
    """What the official SDK's stream helper assembles from these events."""
    snapshot = None
    bufs: dict[int, bytes] = {}
    for _, data in out:
        snapshot = accumulate_event(event=data, current_snapshot=snapshot, json_bufs=bufs)  # type: ignore[arg-type]
    assert snapshot is not None
    return snapshot


def names(out: list[SSE]) -> list[str]:
    return [name for name, _ in out]


def test_text_stream() -> None:
    out = run([
        Start(id="x", model="up", usage=Usage(input_tokens=25, cached_input_tokens=5)),
        BlockStart(0, "text"), TextDelta(0, "Hello"), TextDelta(0, "!"), BlockStop(0),
        UsageReport(Usage(input_tokens=25, output_tokens=15, cached_input_tokens=5)),
        Finish("stop"),
    ])
    assert names(out) == ["message_start", "content_block_start", "content_block_delta",
                          "content_block_delta", "content_block_stop", "message_delta",
                          "message_stop"]
    start = out[0][1]["message"]
    assert start["id"] == "msg_1" and start["model"] == "claude-x"
    assert start["content"] == [] and start["stop_reason"] is None
    assert start["usage"]["input_tokens"] == 20
    assert start["usage"]["cache_read_input_tokens"] == 5
    assert out[1][1] == {"type": "content_block_start", "index": 0,
                         "content_block": {"type": "text", "text": ""}}
    assert out[2][1]["delta"] == {"type": "text_delta", "text": "Hello"}
    delta = out[5][1]
    assert delta["delta"]["stop_reason"] == "end_turn"
    assert delta["usage"]["output_tokens"] == 15 and delta["usage"]["input_tokens"] == 20
    message = sdk_message(out)
    assert message.content[0].text == "Hello!"  # type: ignore[union-attr]
    assert message.stop_reason == "end_turn" and message.usage.output_tokens == 15


def test_thinking_then_tool_use() -> None:
    out = run([
        Start(),
        BlockStart(0, "reasoning"), ReasoningDelta(0, "Let me "), ReasoningDelta(0, "think"),
        SignatureDelta(0, "EqQB"), BlockStop(0),
        BlockStart(1, "tool_call", call_id="toolu_1", name="get_weather"),
        ArgumentsDelta(1, '{"city":'), ArgumentsDelta(1, ' "Paris"}'), BlockStop(1),
        UsageReport(Usage(input_tokens=10, output_tokens=40)),
        Finish("tool_calls"),
    ])
    deltas = [d["delta"] for n, d in out if n == "content_block_delta"]
    assert deltas == [
        {"type": "thinking_delta", "thinking": "Let me "},
        {"type": "thinking_delta", "thinking": "think"},
        {"type": "signature_delta", "signature": "EqQB"},
        {"type": "input_json_delta", "partial_json": '{"city":'},
        {"type": "input_json_delta", "partial_json": ' "Paris"}'},
    ]
    starts = [d["content_block"] for n, d in out if n == "content_block_start"]
    assert starts[0] == {"type": "thinking", "thinking": "", "signature": ""}
    assert starts[1]["type"] == "tool_use" and starts[1]["input"] == {}
    message = sdk_message(out)
    assert message.stop_reason == "tool_use"
    assert message.content[0].thinking == "Let me think"  # type: ignore[union-attr]
    assert message.content[0].signature == "EqQB"  # type: ignore[union-attr]
    assert message.content[1].input == {"city": "Paris"}  # type: ignore[union-attr]


def test_redacted_thinking_and_refusal() -> None:
    out = run([
        BlockStart(0, "reasoning", encrypted="opaque"), ReasoningDelta(0, "ignored"), BlockStop(0),
        BlockStart(1, "refusal"), RefusalDelta(1, "No."), BlockStop(1),
        Finish("content_filter"),
    ])
    assert names(out)[0] == "message_start"
    assert out[1][1]["content_block"] == {"type": "redacted_thinking", "data": "opaque"}
    assert names(out).count("content_block_delta") == 1
    message = sdk_message(out)
    assert message.stop_reason == "refusal"
    assert message.content[1].text == "No."  # type: ignore[union-attr]


def test_indices_are_renumbered_and_other_choices_dropped() -> None:
    out = run([
        BlockStart(3, "text"), BlockStart(0, "text", choice=1), TextDelta(3, "a"),
        TextDelta(0, "b", choice=1), BlockStop(3), Finish("stop", "END"),
    ])
    assert [d.get("index") for n, d in out if n.startswith("content_block")] == [0, 0, 0]
    assert out[-2][1]["delta"]["stop_reason"] == "stop_sequence"
    assert out[-2][1]["delta"]["stop_sequence"] == "END"


def test_close_stops_open_blocks_and_infers_reason() -> None:
    out = run([BlockStart(0, "tool_call", call_id="t", name="f")])
    assert names(out) == ["message_start", "content_block_start", "content_block_stop",
                          "message_delta", "message_stop"]
    assert out[3][1]["delta"]["stop_reason"] == "tool_use"
    assert out[3][1]["usage"]["output_tokens"] == 0


@pytest.mark.parametrize(("reason", "wire"), [
    ("stop", "end_turn"), ("length", "max_tokens"), ("tool_calls", "tool_use"),
    ("content_filter", "refusal"), ("pause", "pause_turn"),
])
def test_finish_is_held_until_close(reason: Any, wire: str) -> None:
    encoder = StreamEncoder(id="msg_1", model="m")
    assert names(encoder.feed(Start())) == ["message_start"]
    assert encoder.feed(Finish(reason)) == []
    out = encoder.close()
    assert names(out) == ["message_delta", "message_stop"]
    assert out[0][1]["delta"]["stop_reason"] == wire


def test_failure_is_the_last_event() -> None:
    encoder = StreamEncoder(id="msg_1", model="m")
    out = encoder.feed(Start()) + encoder.feed(BlockStart(0, "text"))
    out += encoder.feed(Failure(SwitchyardError(ErrorKind.OVERLOADED, "Overloaded")))
    assert out[-1] == ("error", {"type": "error", "request_id": None,
                                 "error": {"type": "overloaded_error", "message": "Overloaded"}})
    validate_anthropic_event(*out[-1])
    assert encoder.feed(TextDelta(0, "late")) == []
    assert encoder.close() == []


SERVER_USE = {"type": "server_tool_use", "id": "srvtoolu_1", "name": "web_search", "input": {"query": "tides"},
              "caller": {"type": "direct"}}
SERVER_RESULT = {"type": "web_search_tool_result", "tool_use_id": "srvtoolu_1", "caller": {"type": "direct"},
                 "content": [{"type": "web_search_result", "url": "https://example.com/t", "title": "Tides",
                              "encrypted_content": "EqAB", "page_age": None}]}


def test_server_tool_blocks_stream_whole_and_other_vendors_are_left_out() -> None:
    out = run([Start(id="m"), ItemDone(VendorItem("anthropic", SERVER_USE)),
               ItemDone(VendorItem("anthropic", SERVER_RESULT)), ItemDone(VendorItem("openai", {"type": "x"})),
               BlockStart(0, "text"), TextDelta(0, "Two a day."), BlockStop(0), Finish("stop")])
    starts = [(d["index"], d["content_block"]["type"]) for n, d in out if n == "content_block_start"]
    assert starts == [(0, "server_tool_use"), (1, "web_search_tool_result"), (2, "text")]
    message = sdk_message(out)
    assert [b.type for b in message.content] == ["server_tool_use", "web_search_tool_result", "text"]
    assert message.content[0].input == {"query": "tides"}  # type: ignore[union-attr]


def test_server_tool_blocks_in_a_whole_message() -> None:
    from switchyard.codecs.anthropic_messages.client_result import encode_result
    from switchyard.core.result import fold

    result = fold([Start(id="m"), ItemDone(VendorItem("anthropic", SERVER_USE)),
                   ItemDone(VendorItem("anthropic", SERVER_RESULT)), BlockStart(0, "text"),
                   TextDelta(0, "Two a day."), BlockStop(0), Finish("stop")])
    body = encode_result(result, id="msg_1", model="claude-x")
    assert body["content"] == [SERVER_USE, SERVER_RESULT, {"type": "text", "text": "Two a day."}]
    assert anthropic.types.Message.model_validate(body).content[1].type == "web_search_tool_result"
