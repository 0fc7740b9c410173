"""The realtime codec without a network: session updates onto a configuration and back,
client events and the fields their errors name, the conversation state machine, and the
response encoder's event order for text, audio, function calls, cancels and failures
(every event checked against the SDK's own server event types)."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from openai.types.realtime.realtime_server_event import RealtimeServerEvent

from switchyard.codecs.openai_realtime import client_events as ce
from switchyard.codecs.openai_realtime.conversation import Conversation, InputBuffer, SessionState
from switchyard.codecs.openai_realtime.items import decode_item, to_canonical
from switchyard.codecs.openai_realtime.response_out import ResponseEncoder
from switchyard.codecs.openai_realtime.session import SessionConfig, Vad, apply_update, encode_session
from switchyard.core.errors import ErrorKind, SwitchyardError
from switchyard.core.events import ArgumentsDelta, BlockStart, BlockStop, Finish, TextDelta, UsageReport
from switchyard.core.items import FunctionCall, FunctionCallOutput, Message, TextPart
from switchyard.core.usage import Usage
from tests.sdk_schema import assert_valid, validator

CHECK = validator(RealtimeServerEvent, {})


def ids() -> Any:
    counter = itertools.count()
    return lambda prefix: f"{prefix}{next(counter)}"


def checked(events: list[dict[str, Any]]) -> list[str]:
    for event in events:
        assert_valid(CHECK, event, event["type"])
    return [event["type"] for event in events]


# --- session ----------------------------------------------------------------------------------

def test_a_session_update_changes_only_the_fields_it_names() -> None:
    base = SessionConfig(model="m", instructions="keep me")
    config = apply_update(base, {"type": "realtime", "output_modalities": ["text"], "audio": {
        "input": {"turn_detection": {"type": "server_vad", "threshold": 0.8, "silence_duration_ms": 300},
                  "transcription": {"model": "whisper-1", "language": "en"}},
        "output": {"voice": "marin", "speed": 1.2}},
        "tools": [{"type": "function", "name": "f", "parameters": {"type": "object", "properties": {}}}],
        "tool_choice": {"type": "function", "name": "f"}, "max_output_tokens": 200})
    assert config.instructions == "keep me" and config.output_modalities == ("text",)
    assert config.turn_detection == Vad(threshold=0.8, silence_duration_ms=300)
    assert config.transcription is not None and config.transcription.language == "en"
    assert (config.voice, config.speed, config.max_output_tokens) == ("marin", 1.2, 200)
    assert config.tool_choice.mode == "tool" and config.tool_choice.name == "f"
    off = apply_update(config, {"audio": {"input": {"turn_detection": None, "transcription": None}}})
    assert off.turn_detection is None and off.transcription is None and off.voice == "marin"
    wire = encode_session(off, "sess_1", 123)
    assert wire["audio"]["input"]["turn_detection"] is None and wire["max_output_tokens"] == 200
    assert wire["tool_choice"] == {"type": "function", "name": "f"}


@pytest.mark.parametrize(("session", "param"), [
    ({"type": "transcription"}, "session.type"),
    ({"output_modalities": ["text", "audio"]}, "session.output_modalities"),
    ({"audio": {"input": {"format": {"type": "audio/opus"}}}}, "session.audio.input.format.type"),
    ({"audio": {"input": {"format": {"type": "audio/pcmu", "rate": 8000}}}}, "session.audio.input.format.rate"),
    ({"audio": {"output": {"format": {"type": "audio/pcm", "rate": 16000}}}}, "session.audio.output.format.rate"),
    ({"audio": {"input": {"turn_detection": {"type": "neural_vad"}}}}, "session.audio.input.turn_detection.type"),
    ({"audio": {"input": {"turn_detection": {"type": "semantic_vad", "silence_duration_ms": 200}}}},
     "session.audio.input.turn_detection.silence_duration_ms"),
    ({"audio": {"input": {"turn_detection": {"type": "server_vad", "prefix_padding_ms": -1}}}},
     "session.audio.input.turn_detection.prefix_padding_ms"),
    ({"audio": {"output": {"speed": 3}}}, "session.audio.output.speed"),
    ({"audio": {"output": {"voice": {"id": "custom"}}}}, "session.audio.output.voice"),
    ({"tools": [{"type": "function"}]}, "session.tools[0].name"),
    ({"tools": [{"type": "mcp", "server_label": "x"}]}, "session.tools[0].type"),
    ({"max_output_tokens": "lots"}, "session.max_output_tokens"),
    ({"instructions": 5}, "session.instructions"),
])
def test_bad_session_fields_are_named(session: dict[str, Any], param: str) -> None:
    with pytest.raises(SwitchyardError) as caught:
        apply_update(SessionConfig(model="m"), session)
    assert caught.value.kind is ErrorKind.INVALID_REQUEST and caught.value.param == param


# --- client events and items --------------------------------------------------------------------

@pytest.mark.parametrize(("frame", "param"), [
    ({}, "type"),
    ({"type": 3}, "type"),
    ({"type": "session.update"}, "session"),
    ({"type": "conversation.item.create", "item": []}, "item"),
    ({"type": "conversation.item.delete"}, "item_id"),
    ({"type": "conversation.item.truncate", "item_id": "a", "audio_end_ms": 5}, "content_index"),
    ({"type": "input_audio_buffer.append", "audio": "AAA"}, "audio"),  # not valid base64
    ({"type": "response.create", "response": "now"}, "response"),
    ({"type": "response.cancel", "response_id": 7}, "response_id"),
    ({"type": "session.update", "session": {}, "event_id": 5}, "event_id"),
])
def test_bad_client_events_name_the_field(frame: dict[str, Any], param: str) -> None:
    with pytest.raises(SwitchyardError) as caught:
        ce.decode_event(frame)
    assert caught.value.param == param


def test_items_are_completed_and_become_canonical() -> None:
    user = decode_item({"type": "message", "role": "user", "content": [
        {"type": "input_text", "text": "hi"}, {"type": "input_audio", "transcript": "spoken"}]}, "item_1")
    call = decode_item({"type": "function_call", "call_id": "c1", "name": "f", "arguments": "{}"}, "item_2")
    output = decode_item({"type": "function_call_output", "call_id": "c1", "output": "42", "id": "mine"}, "item_3")
    assert user["id"] == "item_1" and user["object"] == "realtime.item" and user["status"] == "completed"
    assert output["id"] == "mine"
    assert to_canonical([user, call, output]) == [
        Message("user", [TextPart("hi"), TextPart("spoken")]), FunctionCall("c1", "f", "{}"),
        FunctionCallOutput("c1", [TextPart("42")])]


# --- state ------------------------------------------------------------------------------------------

def test_the_conversation_orders_items_and_refuses_unknown_ids() -> None:
    conversation = Conversation()
    assert conversation.add({"id": "a"}) is None
    assert conversation.add({"id": "b"}) == "a"
    assert conversation.add({"id": "c"}, "root") is None
    assert conversation.add({"id": "d"}, "a") == "a"
    assert [item["id"] for item in conversation.items] == ["c", "a", "d", "b"]
    with pytest.raises(SwitchyardError) as caught:
        conversation.add({"id": "e"}, "zzz")
    assert caught.value.param == "previous_item_id" and caught.value.code == "item_not_found"
    with pytest.raises(SwitchyardError):
        conversation.add({"id": "a"})


def test_truncating_audio_cuts_the_transcript_in_proportion() -> None:
    conversation = Conversation()
    conversation.add({"id": "x", "type": "message", "role": "assistant",
                      "content": [{"type": "output_audio", "transcript": "abcdefghij"}]})
    conversation.audio_ms["x"] = 1000
    conversation.truncate("x", 0, 300)
    assert conversation.get("x")["content"][0]["transcript"] == "abc"
    with pytest.raises(SwitchyardError) as caught:
        conversation.truncate("x", 0, 5000)
    assert caught.value.param == "audio_end_ms"


def test_the_input_buffer_and_the_response_phase() -> None:
    buffer = InputBuffer()
    buffer.append(b"\1\0" * 2400)  # 100 ms
    buffer.check_commit()
    assert len(buffer.take(50)) == 2400 and buffer.ms == 0
    with pytest.raises(SwitchyardError) as empty:
        buffer.check_commit()
    assert empty.value.code == "input_audio_buffer_commit_empty"
    state = SessionState()
    with pytest.raises(SwitchyardError):
        state.check_cancel(None)
    state.begin_response("resp_1")
    with pytest.raises(SwitchyardError) as twice:
        state.begin_response("resp_2")
    assert twice.value.code == "conversation_already_has_active_response"
    assert state.check_cancel("resp_1") == "resp_1"
    state.end_response("resp_1")
    state.begin_response("resp_2")


# --- the response encoder -------------------------------------------------------------------------------

def test_a_text_response() -> None:
    encoder = ResponseEncoder("resp_1", ids(), audio=False, voice="alloy", max_output_tokens=None,
                              previous_item_id="item_user")
    events = encoder.created()
    for event in [BlockStart(0, "text"), TextDelta(0, "Hel"), TextDelta(0, "lo"), BlockStop(0),
                  UsageReport(Usage(input_tokens=5, output_tokens=2)), Finish("stop")]:
        events += encoder.feed(event)
    events += encoder.finish()
    assert checked(events) == [
        "response.created", "response.output_item.added", "conversation.item.added", "response.content_part.added",
        "response.output_text.delta", "response.output_text.delta", "response.output_text.done",
        "response.content_part.done", "response.output_item.done", "conversation.item.done", "response.done"]
    done = events[-1]["response"]
    assert done["status"] == "completed" and done["usage"]["total_tokens"] == 7
    assert done["output"][0]["content"] == [{"type": "output_text", "text": "Hello"}]
    assert events[2]["previous_item_id"] == "item_user"


def test_an_audio_response_stays_open_for_its_audio() -> None:
    encoder = ResponseEncoder("resp_1", ids(), audio=True, voice="marin", max_output_tokens=50)
    events = encoder.created() + encoder.feed(BlockStart(0, "text")) + encoder.feed(TextDelta(0, "Hi."))
    events += encoder.audio(0, "AAAA", 100) + encoder.feed(BlockStop(0))
    assert "response.output_item.done" not in checked(events)
    events += encoder.audio(0, "AAAA", 100) + encoder.end_audio(0) + encoder.finish()
    assert checked(events)[-7:] == [
        "response.output_audio.delta", "response.output_audio.done", "response.output_audio_transcript.done",
        "response.content_part.done", "response.output_item.done", "conversation.item.done", "response.done"]
    assert encoder.audio_ms == {events[1]["item"]["id"]: 200}
    assert events[-1]["response"]["output"][0]["content"] == [{"type": "output_audio", "transcript": "Hi."}]


def test_function_calls_and_a_cancel() -> None:
    encoder = ResponseEncoder("resp_1", ids(), audio=False, voice="alloy", max_output_tokens=None)
    events = encoder.created() + encoder.feed(BlockStart(0, "tool_call", call_id="call_1", name="f"))
    events += encoder.feed(ArgumentsDelta(0, '{"a":')) + encoder.feed(ArgumentsDelta(0, "1}"))
    events += encoder.feed(BlockStop(0)) + encoder.feed(BlockStart(1, "text")) + encoder.feed(TextDelta(1, "and"))
    events += encoder.finish("client_cancelled")
    kinds = checked(events)
    assert kinds.count("response.function_call_arguments.delta") == 2
    done = events[-1]["response"]
    assert done["status"] == "cancelled" and done["status_details"]["reason"] == "client_cancelled"
    assert done["output"][0]["arguments"] == '{"a":1}' and done["output"][0]["status"] == "completed"
    assert done["output"][1]["status"] == "incomplete"


def test_a_failure_and_a_length_cut() -> None:
    failed = ResponseEncoder("resp_1", ids(), audio=False, voice="alloy", max_output_tokens=None)
    failed.failure = SwitchyardError(ErrorKind.UPSTREAM, "boom", code="upstream_error")
    done = failed.finish()[-1]["response"]
    assert done["status"] == "failed" and done["status_details"]["error"]["code"] == "upstream_error"
    cut = ResponseEncoder("resp_2", ids(), audio=False, voice="alloy", max_output_tokens=5)
    cut.feed(Finish("length"))
    done = cut.finish()[-1]["response"]
    assert done["status"] == "incomplete" and done["status_details"]["reason"] == "max_output_tokens"
