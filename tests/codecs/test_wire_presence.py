"""Which keys the vendors send as ``null`` and which they leave out, for what Switchyard
sends clients of both vendors (bodies and stream events). Strict clients (the AI SDK's
schemas) refuse ``null`` where the vendor leaves a key out (text blocks' ``citations``),
and a missing key where the vendor always sends one (the keys Anthropic's reference
requires, null when empty); each row pins one key."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from switchyard.codecs.anthropic_messages import StreamEncoder
from switchyard.codecs.anthropic_messages import encode_result as anthropic_result
from switchyard.codecs.openai_chat import encode_result as chat_result
from switchyard.codecs.openai_chat.chunks_out import ChunkEncoder
from switchyard.codecs.openai_responses.items_out import message_item, output_text, reasoning_item
from switchyard.core.events import BlockStart, BlockStop, Finish, Start, TextDelta, UsageReport
from switchyard.core.items import FunctionCall, Message, TextPart
from switchyard.core.result import Choice, Result
from switchyard.core.usage import Usage

ABSENT = object()  # the key must not be there
NULL = None  # the key must be there, null


def _text_result() -> Result:
    return Result(id="x", model="m", usage=Usage(input_tokens=9, output_tokens=3),
                  choices=[Choice(index=0, finish_reason="stop",
                                  items=[Message(role="assistant", content=[TextPart("Hi")])])])


def _tool_result() -> Result:
    return Result(id="x", model="m", usage=Usage(input_tokens=9, output_tokens=3),
                  choices=[Choice(index=0, finish_reason="tool_calls",
                                  items=[FunctionCall(call_id="c1", name="f", arguments="{}")])])


def _anthropic_message() -> dict[str, Any]:
    return anthropic_result(_text_result(), id="msg_1", model="claude-x")


def _anthropic_events(usage: bool) -> dict[str, dict[str, Any]]:
    encoder = StreamEncoder(id="msg_1", model="claude-x")
    events = [Start(), BlockStart(0, "text"), TextDelta(0, "Hi"), BlockStop(0), Finish("stop")]
    if usage:
        events.append(UsageReport(Usage(input_tokens=9, output_tokens=3)))
    frames = [frame for event in events for frame in encoder.feed(event)] + encoder.close()
    return {name: data for name, data in frames}


def _chunks(include_usage: bool) -> list[dict[str, Any]]:
    encoder = ChunkEncoder(id="chatcmpl-1", model="gpt-x", created=1, include_usage=include_usage)
    events = [Start(), BlockStart(0, "text"), TextDelta(0, "Hi"), BlockStop(0), Finish("stop")]
    return [chunk for event in events for chunk in encoder.feed(event)] + encoder.close()


Produce = Callable[[], dict[str, Any]]
ROWS: list[tuple[str, Produce, str, object]] = [
    # Anthropic Messages, whole
    ("anthropic text block: citations", lambda: _anthropic_message()["content"][0], "citations", ABSENT),
    ("anthropic message: container", _anthropic_message, "container", NULL),
    ("anthropic message: stop_details", _anthropic_message, "stop_details", NULL),
    ("anthropic message: stop_sequence", _anthropic_message, "stop_sequence", NULL),
    ("anthropic usage: cache_creation", lambda: _anthropic_message()["usage"], "cache_creation", NULL),
    ("anthropic usage: server_tool_use", lambda: _anthropic_message()["usage"], "server_tool_use", NULL),
    ("anthropic usage: service_tier", lambda: _anthropic_message()["usage"], "service_tier", NULL),
    ("anthropic usage: inference_geo", lambda: _anthropic_message()["usage"], "inference_geo", NULL),
    # Anthropic Messages, streamed
    ("anthropic content_block_start text: citations",
     lambda: _anthropic_events(True)["content_block_start"]["content_block"], "citations", ABSENT),
    ("anthropic message_start: container", lambda: _anthropic_events(True)["message_start"]["message"],
     "container", NULL),
    ("anthropic message_start: stop_details", lambda: _anthropic_events(True)["message_start"]["message"],
     "stop_details", NULL),
    ("anthropic message_start: stop_reason", lambda: _anthropic_events(True)["message_start"]["message"],
     "stop_reason", NULL),
    ("anthropic message_start usage: server_tool_use",
     lambda: _anthropic_events(True)["message_start"]["message"]["usage"], "server_tool_use", NULL),
    ("anthropic message_delta: container", lambda: _anthropic_events(True)["message_delta"]["delta"],
     "container", NULL),
    ("anthropic message_delta: stop_details", lambda: _anthropic_events(True)["message_delta"]["delta"],
     "stop_details", NULL),
    ("anthropic message_delta: stop_sequence", lambda: _anthropic_events(True)["message_delta"]["delta"],
     "stop_sequence", NULL),
    ("anthropic message_delta usage: server_tool_use",
     lambda: _anthropic_events(True)["message_delta"]["usage"], "server_tool_use", NULL),
    ("anthropic message_delta usage: input_tokens unknown",
     lambda: _anthropic_events(False)["message_delta"]["usage"], "input_tokens", NULL),
    ("anthropic message_delta usage: cache_read_input_tokens unknown",
     lambda: _anthropic_events(False)["message_delta"]["usage"], "cache_read_input_tokens", NULL),
    # OpenAI Chat Completions: OpenAI sends these as null
    ("chat message: refusal", lambda: chat_result(_text_result(), id="c", model="m", created=1)
     ["choices"][0]["message"], "refusal", NULL),
    ("chat message with tool calls: content", lambda: chat_result(_tool_result(), id="c", model="m", created=1)
     ["choices"][0]["message"], "content", NULL),
    ("chat choice: logprobs", lambda: chat_result(_text_result(), id="c", model="m", created=1)["choices"][0],
     "logprobs", NULL),
    ("chat chunk choice: logprobs", lambda: _chunks(False)[1]["choices"][0], "logprobs", NULL),
    ("chat chunk choice: finish_reason", lambda: _chunks(False)[1]["choices"][0], "finish_reason", NULL),
    ("chat chunk without include_usage: usage", lambda: _chunks(False)[1], "usage", ABSENT),
    ("chat chunk with include_usage: usage", lambda: _chunks(True)[1], "usage", NULL),
    # OpenAI Responses output items
    ("responses reasoning without opaque content: encrypted_content",
     lambda: reasoning_item("rs_1", summary=["s"]), "encrypted_content", ABSENT),
    ("responses reasoning without text: content", lambda: reasoning_item("rs_1", summary=["s"]),
     "content", ABSENT),
    ("responses message: content part logprobs", lambda: message_item("msg_1", [output_text("Hi")])
     ["content"][0], "logprobs", []),
    ("responses message: content part annotations", lambda: message_item("msg_1", [output_text("Hi")])
     ["content"][0], "annotations", []),
]


@pytest.mark.parametrize(("produce", "key", "expected"), [pytest.param(p, k, e, id=i) for i, p, k, e in ROWS])
def test_key_presence(produce: Produce, key: str, expected: object) -> None:
    obj = produce()
    if expected is ABSENT:
        assert key not in obj, obj
    else:
        assert key in obj and obj[key] == expected, obj
