"""ResponsesStreamEncoder over realistic canonical event sequences: every event checked
against the SDK and the spec, the stream's bookkeeping checked, and the whole stream fed
through the SDK's own accumulator (what ``client.responses.stream()`` runs)."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from openai._types import omit
from openai.lib.streaming.responses._responses import ResponseStreamState
from openai.types.responses import ResponseStreamEvent
from pydantic import TypeAdapter

from switchyard.codecs.openai_responses import (
    ResponsesStreamEncoder,
    build_response,
    decode_request,
    items_to_canonical,
)
from switchyard.core.errors import invalid
from switchyard.core.events import (
    ArgumentsDelta,
    BlockStart,
    BlockStop,
    Event,
    Finish,
    ItemDone,
    ItemProgress,
    ItemStart,
    ReasoningDelta,
    RefusalDelta,
    SignatureDelta,
    Start,
    TextDelta,
    TokenLogprob,
    TopLogprob,
    UsageReport,
)
from switchyard.core.items import FunctionCall, Message, Reasoning, TextPart
from switchyard.core.tool_items import (
    ImageGenerationCall,
    ImageSettings,
    McpApprovalRequest,
    McpCall,
    McpListTools,
    McpToolSpec,
    PartialImage,
    ToolError,
)
from switchyard.core.usage import Usage
from tests.spec import validate_openai

SDK_EVENT = TypeAdapter(ResponseStreamEvent)
CALL = decode_request({"model": "gpt-test", "input": "hi"})


def ids():
    counter = itertools.count(1)
    return lambda prefix: f"{prefix}{next(counter)}"


def encoder(**kwargs: Any) -> ResponsesStreamEncoder:
    return ResponsesStreamEncoder(new_item_id=ids(), **kwargs)


def feed(enc: ResponsesStreamEncoder, events: list[Event]) -> list[dict[str, Any]]:
    return [out for event in events for out in enc.feed(event)]


def check(events: list[dict[str, Any]], starting: int = 0) -> None:
    """Validity of every event and the stream's bookkeeping."""
    for event in events:
        SDK_EVENT.validate_python(event)
        validate_openai(event, "ResponseStreamEvent")  # checked against the one event type it names
    assert [e["sequence_number"] for e in events] == list(range(starting, starting + len(events)))
    added: dict[int, str] = {}
    done: set[int] = set()
    parts: set[tuple[str, int]] = set()
    for event in events:
        kind = event["type"]
        if kind == "response.output_item.added":
            assert event["output_index"] == len(added), "output indexes are consecutive"
            added[event["output_index"]] = event["item"]["id"]
        elif kind == "response.output_item.done":
            assert added[event["output_index"]] == event["item"]["id"]
            assert event["output_index"] not in done
            done.add(event["output_index"])
        elif "item_id" in event:
            assert added.get(event["output_index"]) == event["item_id"], kind
            assert event["output_index"] not in done, f"{kind} after its item is done"
        if kind == "response.content_part.added":
            parts.add((event["item_id"], event["content_index"]))
        elif kind == "response.content_part.done":
            parts.remove((event["item_id"], event["content_index"]))
        elif "content_index" in event:
            assert (event["item_id"], event["content_index"]) in parts, kind
    assert set(added) == done, "every added item is done"
    assert not parts, "every content part is done"


def accumulate(events: list[dict[str, Any]]) -> Any:
    """The SDK's ``responses.stream()`` state machine over our events; the final response."""
    state = ResponseStreamState(input_tools=omit, text_format=omit)
    final = None
    for event in events:
        for out in state.handle_event(SDK_EVENT.validate_python(event)):
            if out.type in ("response.completed", "response.incomplete"):
                final = out.response
    assert final is not None
    return final


def prune(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: prune(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [prune(v) for v in value]
    return value


def types(events: list[dict[str, Any]]) -> list[str]:
    return [e["type"].removeprefix("response.") for e in events]


def run(events: list[Event], *, starting: int = 0, between: Any = None, **kwargs: Any):
    """Encode a whole response: created, in_progress, the turns, completed; checked and accumulated.
    ``between`` (enc) -> list of events is called at each ``None`` placeholder in ``events``."""
    enc = encoder(starting_sequence=starting, **kwargs)
    start = build_response(CALL, id="resp_1", created_at=1, status="in_progress", output=[])
    stream = [enc.lifecycle("response.created", start), enc.lifecycle("response.in_progress", start)]
    for event in events:
        stream += between(enc) if event is None else enc.feed(event)
    final = build_response(CALL, id="resp_1", created_at=1, status="completed", output=enc.output, usage=Usage(3, 4),
                           completed_at=2)
    stream.append(enc.lifecycle("response.completed", final))
    check(stream, starting)
    response = accumulate(stream)
    assert [item.model_dump(exclude_none=True) for item in response.output] == prune(enc.output)
    return enc, stream, response


def test_text():
    enc, stream, response = run([Start("x", "m"), BlockStart(0, "text"), TextDelta(0, "Hel"), TextDelta(0, "lo"),
                                 BlockStop(0), UsageReport(Usage(3, 4)), Finish("stop")])
    assert types(stream) == ["created", "in_progress", "output_item.added", "content_part.added",
                             "output_text.delta", "output_text.delta", "output_text.done", "content_part.done",
                             "output_item.done", "completed"]
    assert stream[4] == {"type": "response.output_text.delta", "sequence_number": 4, "item_id": "msg_1",
                         "output_index": 0, "content_index": 0, "delta": "Hel", "logprobs": []}
    assert enc.output == [{"id": "msg_1", "type": "message", "status": "completed", "role": "assistant",
                           "content": [{"type": "output_text", "text": "Hello", "annotations": [], "logprobs": []}]}]
    assert stream[-1]["response"]["output"] == enc.output
    assert response.output_text == "Hello"


def test_reasoning_then_text_keeps_the_signature():
    enc, stream, response = run([
        Start(), BlockStart(0, "reasoning"), ReasoningDelta(0, "Let me "), ReasoningDelta(0, "think."),
        SignatureDelta(0, "SIG=="), BlockStop(0), BlockStart(1, "text"), TextDelta(1, "42"), BlockStop(1),
        Finish("stop"),
    ])
    assert types(stream)[2:-1] == [
        "output_item.added", "content_part.added", "reasoning_text.delta", "reasoning_text.delta",
        "reasoning_text.done", "content_part.done", "output_item.done",
        "output_item.added", "content_part.added", "output_text.delta", "output_text.done", "content_part.done",
        "output_item.done",
    ]
    reasoning, _message = enc.output
    assert reasoning == {"id": "rs_1", "type": "reasoning", "summary": [],
                         "content": [{"type": "reasoning_text", "text": "Let me think."}],
                         "encrypted_content": "sig:SIG=="}
    assert response.output_text == "42"
    assert items_to_canonical(enc.output) == [
        Reasoning(text="Let me think.", signature="SIG==", id="rs_1"), Message("assistant", [TextPart("42")])]


def test_reasoning_as_summary():
    enc, stream, _ = run([Start(), BlockStart(0, "reasoning"), ReasoningDelta(0, "brief"), SignatureDelta(0, "S"),
                          BlockStop(0), Finish("stop")], reasoning_as="summary")
    assert types(stream)[2:-1] == ["output_item.added", "reasoning_summary_part.added",
                                   "reasoning_summary_text.delta", "reasoning_summary_text.done",
                                   "reasoning_summary_part.done", "output_item.done"]
    assert enc.output[0]["summary"] == [{"type": "summary_text", "text": "brief"}]
    assert "content" not in enc.output[0]
    (back,) = items_to_canonical(enc.output)
    assert (back.text, back.signature, back.summary) == ("brief", "S", ["brief"])


def test_redacted_reasoning_has_no_content_part():
    enc, stream, _ = run([Start(), BlockStart(0, "reasoning", encrypted="opaque"), BlockStop(0),
                          BlockStart(1, "text"), TextDelta(1, "ok"), BlockStop(1), Finish("stop")])
    assert types(stream)[2:4] == ["output_item.added", "output_item.done"]
    assert enc.output[0] == {"id": "rs_1", "type": "reasoning", "summary": [], "encrypted_content": "opaque"}


def test_two_parallel_function_calls():
    enc, stream, response = run([
        Start(), BlockStart(0, "tool_call", call_id="call_a", name="weather"), ArgumentsDelta(0, "{\"city\":"),
        BlockStart(1, "tool_call", call_id="call_b", name="time"), ArgumentsDelta(1, "{}"),
        ArgumentsDelta(0, "\"Paris\"}"), BlockStop(0), BlockStop(1), Finish("tool_calls"),
    ])
    deltas = [e for e in stream if e["type"] == "response.function_call_arguments.delta"]
    assert [(d["item_id"], d["output_index"], d["delta"]) for d in deltas] == [
        ("fc_1", 0, "{\"city\":"), ("fc_2", 1, "{}"), ("fc_1", 0, "\"Paris\"}")]
    dones = [e for e in stream if e["type"] == "response.function_call_arguments.done"]
    assert [d["arguments"] for d in dones] == ["{\"city\":\"Paris\"}", "{}"]
    assert enc.output == [
        {"id": "fc_1", "type": "function_call", "status": "completed", "arguments": "{\"city\":\"Paris\"}",
         "call_id": "call_a", "name": "weather"},
        {"id": "fc_2", "type": "function_call", "status": "completed", "arguments": "{}", "call_id": "call_b",
         "name": "time"},
    ]
    assert [c.call_id for c in response.output] == ["call_a", "call_b"]
    assert items_to_canonical(enc.output) == [FunctionCall("call_a", "weather", "{\"city\":\"Paris\"}", id="fc_1"),
                                              FunctionCall("call_b", "time", "{}", id="fc_2")]


def test_refusal():
    enc, stream, response = run([Start(), BlockStart(0, "refusal"), RefusalDelta(0, "I can't"),
                                 RefusalDelta(0, " help."), BlockStop(0), Finish("content_filter")])
    assert types(stream)[2:-1] == ["output_item.added", "content_part.added", "refusal.delta", "refusal.delta",
                                   "refusal.done", "content_part.done", "output_item.done"]
    assert enc.output[0]["content"] == [{"type": "refusal", "refusal": "I can't help."}]
    assert response.output[0].content[0].refusal == "I can't help."


def _mcp_between(enc: ResponsesStreamEncoder) -> list[dict[str, Any]]:
    out = enc.feed(ItemStart(McpListTools("mcpl_x", "docs")))
    out += enc.feed(ItemDone(McpListTools("mcpl_x", "docs", [McpToolSpec("search", {"type": "object"}, "Search")])))
    out += enc.feed(ItemStart(McpCall("mcp_x", "docs", "search", "{\"q\":\"a\"}", status="in_progress")))
    out += enc.feed(ItemDone(McpCall("mcp_x", "docs", "search", "{\"q\":\"a\"}", output="result")))
    out += enc.feed(ItemStart(McpCall("mcp_y", "docs", "search", "{}", status="in_progress")))
    out += enc.feed(ItemDone(McpCall("mcp_y", "docs", "search", "{}", error="server said no", status="failed")))
    out += enc.feed(ItemDone(McpApprovalRequest("", "docs", "search", "{}")))
    return out


def test_two_turns_with_mcp_items_in_between():
    enc, stream, response = run([
        Start(), BlockStart(0, "tool_call", call_id="call_1", name="search"), ArgumentsDelta(0, "{}"), BlockStop(0),
        Finish("tool_calls"),
        None,
        Start(), BlockStart(0, "text"), TextDelta(0, "Found it."), BlockStop(0), Finish("stop"),
    ], between=_mcp_between)
    middle = types(stream)
    assert middle[middle.index("mcp_list_tools.in_progress") - 1] == "output_item.added"
    assert [t for t in middle if t.startswith("mcp")] == [
        "mcp_list_tools.in_progress", "mcp_list_tools.completed",
        "mcp_call_arguments.delta", "mcp_call_arguments.done", "mcp_call.in_progress", "mcp_call.completed",
        "mcp_call_arguments.delta", "mcp_call_arguments.done", "mcp_call.in_progress", "mcp_call.failed",
    ]
    assert [(o["type"], o["id"]) for o in enc.output] == [
        ("function_call", "fc_1"), ("mcp_list_tools", "mcpl_x"), ("mcp_call", "mcp_x"), ("mcp_call", "mcp_y"),
        ("mcp_approval_request", "mcpr_2"), ("message", "msg_3")]
    added = {e["item"]["id"]: e["item"] for e in stream if e["type"] == "response.output_item.added"}
    assert added["mcpl_x"]["tools"] == [] and added["mcp_x"]["arguments"] == ""
    assert enc.output[2]["status"] == "completed" and enc.output[2]["output"] == "result"
    assert enc.output[3]["status"] == "failed"
    assert enc.output[3]["error"] == {"type": "mcp_tool_execution_error",
                                      "content": [{"type": "text", "text": "server said no"}]}
    message = next(e for e in stream if e["type"] == "response.output_text.delta")
    assert (message["output_index"], message["item_id"]) == (5, "msg_3")
    assert response.output_text == "Found it."


def _image_between(enc: ResponsesStreamEncoder) -> list[dict[str, Any]]:
    low = ImageSettings(quality="low", size="1024x1024")
    out = enc.feed(ItemStart(ImageGenerationCall("ig_a", status="in_progress")))
    out += enc.feed(ItemProgress("ig_a", PartialImage(0, "QQ==", low)))
    out += enc.feed(ItemProgress("ig_a", PartialImage(1, "Qg==", low)))
    out += enc.feed(ItemProgress("ig_gone", PartialImage(0, "QQ==")))  # no such item begun: nothing
    out += enc.feed(ItemDone(ImageGenerationCall("ig_a", result="Qw==", revised_prompt="red", settings=low)))
    out += enc.feed(ItemStart(ImageGenerationCall("ig_b", status="in_progress")))
    error = ToolError("Rejected by the safety system.", "invalid_request_error")
    out += enc.feed(ItemDone(ImageGenerationCall("ig_b", status="failed", error=error)))
    return out


def test_image_generation_items_with_partial_images():
    enc, stream, response = run([
        Start(), BlockStart(0, "tool_call", call_id="call_1", name="f"), ArgumentsDelta(0, "{}"), BlockStop(0),
        Finish("tool_calls"),
        None,
        Start(), BlockStart(0, "text"), TextDelta(0, "Here."), BlockStop(0), Finish("stop"),
    ], between=_image_between)
    images = [t for t in types(stream) if t.startswith("image_generation_call")]
    assert images == ["image_generation_call.in_progress", "image_generation_call.generating",
                      "image_generation_call.partial_image", "image_generation_call.partial_image",
                      "image_generation_call.completed",
                      "image_generation_call.in_progress", "image_generation_call.generating"]
    partials = [e for e in stream if e["type"] == "response.image_generation_call.partial_image"]
    assert [(p["partial_image_index"], p["partial_image_b64"], p["output_index"]) for p in partials] == [
        (0, "QQ==", 1), (1, "Qg==", 1)]
    assert partials[0]["size"] == "1024x1024" and partials[0]["quality"] == "low" and "background" not in partials[0]
    added = {e["item"]["id"]: e["item"] for e in stream if e["type"] == "response.output_item.added"}
    assert added["ig_a"] == {"id": "ig_a", "type": "image_generation_call", "status": "in_progress", "result": None}
    assert enc.output[1] == {"id": "ig_a", "type": "image_generation_call", "status": "completed", "result": "Qw==",
                             "revised_prompt": "red", "quality": "low", "size": "1024x1024"}
    assert enc.output[2] == {"id": "ig_b", "type": "image_generation_call", "status": "failed", "result": None,
                             "error": {"type": "invalid_request_error", "code": None,
                                       "message": "Rejected by the safety system.", "param": None}}
    assert [item.type for item in response.output] == ["function_call", "image_generation_call",
                                                       "image_generation_call", "message"]
    assert response.output[1].result == "Qw=="


def test_logprobs_travel_on_deltas_and_the_part():
    lp = [TokenLogprob("Hi", -0.1, top=[TopLogprob("Hi", -0.1), TopLogprob("Yo", -2.0)])]
    enc, stream, _ = run([Start(), BlockStart(0, "text"), TextDelta(0, "Hi", logprobs=lp), BlockStop(0),
                          Finish("stop")])
    delta = next(e for e in stream if e["type"] == "response.output_text.delta")
    assert delta["logprobs"] == [{"token": "Hi", "logprob": -0.1, "top_logprobs": [
        {"token": "Hi", "logprob": -0.1}, {"token": "Yo", "logprob": -2.0}]}]
    assert enc.output[0]["content"][0]["logprobs"][0]["bytes"] == [72, 105]


def test_starting_sequence_continues_a_stored_stream():
    enc, stream, _ = run([Start(), BlockStart(0, "text"), TextDelta(0, "x"), BlockStop(0), Finish("stop")],
                         starting=41)
    assert stream[0]["sequence_number"] == 41
    assert enc.next_sequence == stream[-1]["sequence_number"] + 1


@pytest.mark.parametrize(("finish", "status"), [("length", "incomplete"), ("stop", "completed")])
def test_blocks_left_open_are_closed_at_finish(finish, status):
    enc = encoder()
    events = feed(enc, [Start(), BlockStart(0, "text"), TextDelta(0, "cut"), BlockStart(1, "tool_call",
                                                                                           call_id="c", name="f"),
                        Finish(finish)])
    check(events)
    assert [o["status"] for o in enc.output] == [status, status]


def test_a_new_turn_closes_what_the_last_left_open_and_restarts_block_indexes():
    enc = encoder()
    events = feed(enc, [Start(), BlockStart(0, "text"), TextDelta(0, "a"), Start(), BlockStart(0, "text"),
                        TextDelta(0, "b"), BlockStop(0)])
    check(events)
    assert [(o["id"], o["status"], o["content"][0]["text"]) for o in enc.output] == [
        ("msg_1", "incomplete", "a"), ("msg_2", "completed", "b")]


def test_deltas_without_block_start_open_a_block():
    enc = encoder()
    events = feed(enc, [Start(), TextDelta(0, "implicit"), BlockStop(0)])
    check(events)
    assert enc.output[0]["content"][0]["text"] == "implicit"


def test_empty_deltas_and_usage_emit_nothing():
    enc = encoder()
    feed(enc, [Start(), BlockStart(0, "text")])
    assert feed(enc, [TextDelta(0, ""), UsageReport(Usage(1, 1))]) == []


def test_error_event():
    enc = encoder(starting_sequence=5)
    event = enc.error(invalid("bad thing", "input", "invalid_value"))
    assert event == {"type": "error", "sequence_number": 5, "code": "invalid_value", "message": "bad thing",
                     "param": "input"}
    check([event], starting=5)


def test_lifecycle_names_are_checked():
    with pytest.raises(ValueError):
        encoder().lifecycle("response.exploded", {})
