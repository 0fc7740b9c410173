"""The Responses codec against the Open Responses specification: the Response object
carries every required key (penalties, ``usage`` null until known) in every status,
streaming events validate against the spec's event schemas (and the SDK's), and the
request decoder keeps what Open Responses lets a client send."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from openai.types.responses import Response, ResponseStreamEvent
from pydantic import TypeAdapter

from switchyard.codecs.openai_responses import (
    ResponsesStreamEncoder,
    build_response,
    decode_request,
    items_to_output,
)
from switchyard.core.errors import SwitchyardError, invalid
from switchyard.core.events import (
    ArgumentsDelta,
    BlockStart,
    BlockStop,
    Finish,
    Start,
    TextDelta,
    UsageReport,
)
from switchyard.core.items import FunctionCall, Message, TextPart
from switchyard.core.usage import Usage
from switchyard.engine.responses.model_request import model_request
from tests.spec_openresponses import validate_open_responses, validate_open_responses_event

SDK_EVENT = TypeAdapter(ResponseStreamEvent)


def ids():
    counter = itertools.count(1)
    return lambda prefix: f"{prefix}{next(counter)}"


def call_of(**body: Any):
    return decode_request({"model": "m", **body}, new_item_id=ids())


def conforms(body: dict[str, Any]) -> Response:
    validate_open_responses(body, "ResponseResource")
    return Response.model_validate(body)


@pytest.mark.parametrize("drop", ["presence_penalty", "frequency_penalty", "usage"])
def test_the_schema_requires_what_the_spec_requires(drop):
    body = build_response(call_of(input="hi"), id="resp_1", created_at=1, status="in_progress", output=[])
    del body[drop]
    with pytest.raises(AssertionError, match=drop):
        validate_open_responses(body, "ResponseResource")
    with pytest.raises(AssertionError, match=drop):
        validate_open_responses_event({"type": "response.created", "sequence_number": 0, "response": body})


@pytest.mark.parametrize("status", ["queued", "in_progress"])
def test_a_response_not_yet_finished_has_usage_null(status):
    body = build_response(call_of(input="hi"), id="resp_1", created_at=1, status=status, output=[])
    assert "usage" in body and body["usage"] is None
    assert conforms(body).usage is None


@pytest.mark.parametrize("status", ["completed", "incomplete", "failed", "cancelled"])
def test_a_finished_response_conforms(status):
    output = items_to_output([Message("assistant", [TextPart("Hi")])], ids())
    extra: dict[str, Any] = {}
    if status == "failed":
        extra["error"] = {"code": "server_error", "message": "boom"}
    if status == "incomplete":
        extra["incomplete_details"] = {"reason": "max_output_tokens"}
    body = build_response(call_of(input="hi"), id="resp_1", created_at=1, status=status, output=output,
                          usage=Usage(3, 2), completed_at=2, **extra)
    sdk = conforms(body)
    assert body["usage"] == {"input_tokens": 3, "output_tokens": 2, "total_tokens": 5,
                             "input_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0},
                             "output_tokens_details": {"reasoning_tokens": 0}}
    assert sdk.status == status


def test_penalties_default_to_zero_in_the_response():
    body = build_response(call_of(input="hi"), id="resp_1", created_at=1, status="completed", output=[])
    assert (body["presence_penalty"], body["frequency_penalty"]) == (0.0, 0.0)
    conforms(body)


def test_penalties_are_decoded_echoed_and_reach_the_model():
    call = call_of(input="hi", presence_penalty=1.5, frequency_penalty=-0.5)
    assert (call.presence_penalty, call.frequency_penalty) == (1.5, -0.5)
    body = build_response(call, id="resp_1", created_at=1, status="completed", output=[])
    assert (body["presence_penalty"], body["frequency_penalty"]) == (1.5, -0.5)
    request = model_request(call, [], [])
    assert (request.presence_penalty, request.frequency_penalty) == (1.5, -0.5)


def test_null_penalties_mean_unset():
    call = call_of(input="hi", presence_penalty=None, frequency_penalty=None)
    request = model_request(call, [], [])
    assert (request.presence_penalty, request.frequency_penalty) == (None, None)


@pytest.mark.parametrize(("field", "value"), [
    ("presence_penalty", 2.5), ("presence_penalty", -3), ("frequency_penalty", "high"),
    ("frequency_penalty", True), ("presence_penalty", [1]),
])
def test_bad_penalties_are_refused_naming_the_field(field, value):
    with pytest.raises(SwitchyardError) as info:
        call_of(input="hi", **{field: value})
    assert info.value.param == field
    assert info.value.kind.value == "invalid_request"


def test_assistant_history_with_phase_labels_is_kept():
    call = call_of(input=[
        {"type": "message", "role": "assistant", "phase": "commentary", "content": "checking"},
        {"type": "message", "role": "assistant", "phase": "final_answer", "content": "four"},
        {"type": "message", "role": "user", "content": "Repeat only the number."},
    ])
    assert [i.get("phase") for i in call.input_items] == ["commentary", "final_answer", None]
    assert call.input_items[0]["content"] == [{"type": "output_text", "text": "checking", "annotations": [],
                                               "logprobs": []}]


def test_an_unknown_phase_is_refused_naming_it():
    with pytest.raises(SwitchyardError) as info:
        call_of(input=[{"type": "message", "role": "assistant", "phase": "draft", "content": "x"}])
    assert info.value.param == "input[0].phase"


def test_system_and_developer_messages_are_input_items():
    call = call_of(input=[{"type": "message", "role": "system", "content": "You are a pirate."},
                          {"type": "message", "role": "user", "content": "Say hello."}])
    assert [(i["type"], i["role"]) for i in call.input_items] == [("message", "system"), ("message", "user")]


def _stream(events: list[Any]) -> list[dict[str, Any]]:
    enc = ResponsesStreamEncoder(new_item_id=ids())
    call = call_of(input="hi", tools=[{"type": "function", "name": "get_weather",
                                       "parameters": {"type": "object", "properties": {}}}])
    snapshot = build_response(call, id="resp_1", created_at=1, status="in_progress", output=[])
    out = [enc.lifecycle("created", snapshot), enc.lifecycle("in_progress", snapshot)]
    out += [o for e in events for o in enc.feed(e)]
    final = build_response(call, id="resp_1", created_at=1, status="completed", output=enc.output,
                           usage=Usage(5, 4), completed_at=2)
    out.append(enc.lifecycle("completed", final))
    return out


def _validate_all(events: list[dict[str, Any]]) -> None:
    for event in events:
        validate_open_responses_event(event)
        SDK_EVENT.validate_python(event)


def test_a_text_stream_conforms_event_by_event():
    events = _stream([Start(), BlockStart(0, "text"), TextDelta(0, "1, 2, "), TextDelta(0, "3"), BlockStop(0),
                      UsageReport(Usage(5, 4)), Finish("stop")])
    _validate_all(events)
    assert [e["type"] for e in events] == [
        "response.created", "response.in_progress", "response.output_item.added", "response.content_part.added",
        "response.output_text.delta", "response.output_text.delta", "response.output_text.done",
        "response.content_part.done", "response.output_item.done", "response.completed"]
    assert events[0]["response"]["usage"] is None and events[1]["response"]["usage"] is None
    assert events[-1]["response"]["usage"]["total_tokens"] == 9


def test_a_function_call_stream_conforms_event_by_event():
    events = _stream([Start(), BlockStart(0, "tool_call", call_id="call_1", name="get_weather"),
                      ArgumentsDelta(0, '{"location": '), ArgumentsDelta(0, '"SF"}'), BlockStop(0),
                      Finish("tool_calls")])
    _validate_all(events)
    kinds = [e["type"] for e in events]
    assert kinds.count("response.function_call_arguments.delta") == 2
    added = next(e for e in events if e["type"] == "response.output_item.added")
    done = next(e for e in events if e["type"] == "response.output_item.done")
    assert added["item"]["type"] == done["item"]["type"] == "function_call"
    assert done["item"]["arguments"] == '{"location": "SF"}' and done["item"]["status"] == "completed"
    args_done = next(e for e in events if e["type"] == "response.function_call_arguments.done")
    assert args_done["arguments"] == '{"location": "SF"}' and args_done["item_id"] == done["item"]["id"]
    assert events[-1]["response"]["output"][0]["call_id"] == "call_1"


def test_the_error_event_keeps_the_flat_shape_the_sdk_reads_as_an_event():
    # Open Responses nests code/message/param in an ``error`` object; the SDK raises
    # APIError on any stream event with a top-level ``error`` key instead of yielding it.
    enc = ResponsesStreamEncoder(new_item_id=ids())
    event = enc.error(invalid("bad thing", "input", "invalid_value"))
    assert "error" not in event
    sdk = SDK_EVENT.validate_python(event)
    assert (sdk.code, sdk.message, sdk.param) == ("invalid_value", "bad thing", "input")


def test_function_call_items_in_output_conform():
    output = items_to_output([FunctionCall("call_1", "get_weather", '{"location": "SF"}')], ids())
    body = build_response(call_of(input="hi"), id="resp_1", created_at=1, status="completed", output=output,
                          usage=Usage(1, 1), completed_at=2)
    conforms(body)
    assert body["output"][0]["type"] == "function_call" and body["output"][0]["status"] == "completed"
