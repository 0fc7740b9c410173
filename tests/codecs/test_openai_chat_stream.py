"""ChunkEncoder (client side) and ChunkDecoder (upstream side)."""

from __future__ import annotations

from typing import Any

import pytest
from openai.types.chat import ChatCompletionChunk

from switchyard.codecs.openai_chat import ChunkDecoder, ChunkEncoder
from switchyard.core.errors import ErrorKind, SwitchyardError
from switchyard.core.events import (
    ArgumentsDelta,
    BlockStart,
    BlockStop,
    Event,
    Failure,
    Finish,
    ReasoningDelta,
    RefusalDelta,
    SignatureDelta,
    Start,
    TextDelta,
    TokenLogprob,
    UsageReport,
)
from switchyard.core.items import FunctionCall
from switchyard.core.result import fold
from switchyard.core.usage import Usage
from tests.spec import validate_openai

ENVELOPE = {"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1, "model": "m"}


def encode(events: list[Event], include_usage: bool = False) -> list[dict[str, Any]]:
    encoder = ChunkEncoder(id="chatcmpl-1", model="m", created=1, include_usage=include_usage)
    chunks = [c for e in events for c in encoder.feed(e)] + encoder.close()
    for chunk in chunks:
        if "error" in chunk:
            validate_openai(chunk, "ErrorResponse")
            continue
        validate_openai(chunk, "CreateChatCompletionStreamResponse")
        ChatCompletionChunk.model_validate(chunk)
        assert {k: chunk[k] for k in ENVELOPE} == ENVELOPE
    return chunks


def deltas(chunks: list[dict[str, Any]]) -> list[tuple[int, dict[str, Any], str | None]]:
    return [(c["index"], c["delta"], c["finish_reason"]) for ch in chunks for c in ch["choices"]]


def test_text_stream_with_usage() -> None:
    chunks = encode([
        Start(id="up", model="up-model"),
        BlockStart(0, "text"), TextDelta(0, "Hel"), TextDelta(0, "lo"), BlockStop(0),
        UsageReport(Usage(3, 2)), Finish("stop"),
    ], include_usage=True)
    assert deltas(chunks) == [
        (0, {"role": "assistant", "content": ""}, None),
        (0, {"content": "Hel"}, None),
        (0, {"content": "lo"}, None),
        (0, {}, "stop"),
    ]
    assert all(c["usage"] is None for c in chunks[:-1])
    assert chunks[-1]["choices"] == []
    assert chunks[-1]["usage"]["total_tokens"] == 5
    assert chunks[0]["choices"][0]["logprobs"] is None


def test_without_include_usage_there_is_no_usage_key() -> None:
    chunks = encode([Start(), BlockStart(0, "text"), TextDelta(0, "x"), BlockStop(0),
                     UsageReport(Usage(1, 1)), Finish("length")])
    assert all("usage" not in c for c in chunks)
    assert deltas(chunks)[-1] == (0, {}, "length")


def test_parallel_tool_calls_stream_arguments_as_deltas() -> None:
    chunks = encode([
        Start(),
        BlockStart(0, "reasoning"), ReasoningDelta(0, "think"), SignatureDelta(0, "sig"),
        BlockStop(0),
        BlockStart(1, "tool_call", call_id="call_a", name="f"),
        ArgumentsDelta(1, '{"a"'), ArgumentsDelta(1, ":1}"), BlockStop(1),
        BlockStart(2, "tool_call", call_id="call_b", name="g"),
        ArgumentsDelta(2, "{}"), BlockStop(2),
        Finish("tool_calls"),
    ])
    assert deltas(chunks) == [
        (0, {"role": "assistant", "content": ""}, None),
        (0, {"reasoning_content": "think"}, None),
        (0, {"tool_calls": [{"index": 0, "id": "call_a", "type": "function",
                             "function": {"name": "f", "arguments": ""}}]}, None),
        (0, {"tool_calls": [{"index": 0, "function": {"arguments": '{"a"'}}]}, None),
        (0, {"tool_calls": [{"index": 0, "function": {"arguments": ":1}"}}]}, None),
        (0, {"tool_calls": [{"index": 1, "id": "call_b", "type": "function",
                             "function": {"name": "g", "arguments": ""}}]}, None),
        (0, {"tool_calls": [{"index": 1, "function": {"arguments": "{}"}}]}, None),
        (0, {}, "tool_calls"),
    ]


def test_refusal_logprobs_and_pause() -> None:
    lp = [TokenLogprob("a", -1.0, [97], [])]
    chunks = encode([Start(), BlockStart(0, "text"), TextDelta(0, "a", logprobs=lp),
                     BlockStop(0), BlockStart(1, "refusal"), RefusalDelta(1, "no"),
                     BlockStop(1), Finish("pause")])
    assert chunks[1]["choices"][0]["logprobs"] == {
        "content": [{"token": "a", "logprob": -1.0, "bytes": [97], "top_logprobs": []}],
        "refusal": None,
    }
    assert deltas(chunks)[2:] == [(0, {"refusal": "no"}, None), (0, {}, "stop")]


def test_several_choices_keep_their_own_state() -> None:
    chunks = encode([
        Start(),
        BlockStart(0, "text", choice=0), BlockStart(0, "tool_call", call_id="c", name="f",
                                                    choice=1),
        TextDelta(0, "x", choice=0), ArgumentsDelta(0, "{}", choice=1),
        BlockStop(0, choice=0), BlockStop(0, choice=1),
        Finish("stop", choice=0), Finish("tool_calls", choice=1),
    ])
    assert deltas(chunks) == [
        (0, {"role": "assistant", "content": ""}, None),
        (1, {"role": "assistant", "content": ""}, None),
        (1, {"tool_calls": [{"index": 0, "id": "c", "type": "function",
                             "function": {"name": "f", "arguments": ""}}]}, None),
        (0, {"content": "x"}, None),
        (1, {"tool_calls": [{"index": 0, "function": {"arguments": "{}"}}]}, None),
        (0, {}, "stop"),
        (1, {}, "tool_calls"),
    ]


def test_failure_ends_the_stream_with_an_error_body() -> None:
    err = SwitchyardError(ErrorKind.UPSTREAM, "upstream broke", code="bad_gateway")
    chunks = encode([Start(), BlockStart(0, "text"), TextDelta(0, "x"), Failure(err),
                     TextDelta(0, "late"), Finish("stop")], include_usage=True)
    assert chunks[-1] == {"error": {"message": "upstream broke", "type": "api_error",
                                    "param": None, "code": "bad_gateway"}}
    assert len(chunks) == 3


# --- upstream side -------------------------------------------------------------------------


def chunk(choices: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {"id": "chatcmpl-u", "object": "chat.completion.chunk", "created": 1,
            "model": "gpt-4o", "choices": choices, **extra}


def delta(d: dict[str, Any], finish: str | None = None, index: int = 0) -> dict[str, Any]:
    return {"index": index, "delta": d, "logprobs": None, "finish_reason": finish}


def decode(chunks: list[dict[str, Any]]) -> list[Event]:
    decoder = ChunkDecoder()
    return [e for c in chunks for e in decoder.feed(c)] + decoder.close()


OPENAI_STREAM = [
    chunk([delta({"role": "assistant", "content": "", "refusal": None})], usage=None),
    chunk([delta({"content": "Hello"})], usage=None),
    chunk([delta({"content": " there"})], usage=None),
    chunk([delta({}, "stop")], usage=None),
    chunk([], usage={"prompt_tokens": 8, "completion_tokens": 2, "total_tokens": 10,
                     "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
                     "completion_tokens_details": {"reasoning_tokens": 0}}),
]


def test_real_openai_stream() -> None:
    assert decode(OPENAI_STREAM) == [
        Start(id="chatcmpl-u", model="gpt-4o"),
        BlockStart(0, "text"), TextDelta(0, "Hello"), TextDelta(0, " there"), BlockStop(0),
        Finish("stop"),
        UsageReport(Usage(input_tokens=8, output_tokens=2)),
    ]


def test_streamed_parallel_tool_calls() -> None:
    def call(index: int, args: str, head: tuple[str, str] | None = None) -> dict[str, Any]:
        out: dict[str, Any] = {"index": index, "function": {"arguments": args}}
        if head:
            out.update(id=head[0], type="function")
            out["function"]["name"] = head[1]
        return out

    stream = [
        chunk([delta({"role": "assistant", "content": None})]),
        chunk([delta({"tool_calls": [call(0, "", ("call_a", "get_weather"))]})]),
        *[chunk([delta({"tool_calls": [call(0, piece)]})]) for piece in
          ['{"ci', 'ty": ', '"Par', 'is"}']],
        chunk([delta({"tool_calls": [call(1, "", ("call_b", "get_time"))]})]),
        *[chunk([delta({"tool_calls": [call(1, piece)]})]) for piece in ['{"tz"', ': "CET"}']],
        chunk([delta({}, "tool_calls")]),
    ]
    events = decode(stream)
    assert events[1:5] == [
        BlockStart(0, "tool_call", call_id="call_a", name="get_weather"),
        ArgumentsDelta(0, '{"ci'), ArgumentsDelta(0, 'ty": '), ArgumentsDelta(0, '"Par'),
    ]
    assert events[-1] == Finish("tool_calls")
    assert fold(events).choices[0].tool_calls() == [
        FunctionCall("call_a", "get_weather", '{"city": "Paris"}'),
        FunctionCall("call_b", "get_time", '{"tz": "CET"}'),
    ]


def test_deepseek_reasoning_stream() -> None:
    stream = [
        chunk([delta({"role": "assistant", "content": None, "reasoning_content": ""})]),
        chunk([delta({"content": None, "reasoning_content": "Let me"})]),
        chunk([delta({"content": None, "reasoning_content": " think."})]),
        chunk([delta({"content": "Answer", "reasoning_content": None})]),
        chunk([delta({"content": ": 4", "reasoning_content": None})]),
        chunk([delta({"content": "", "reasoning_content": None}, "stop")],
              usage={"prompt_tokens": 10, "completion_tokens": 20, "total_tokens": 30,
                     "prompt_cache_hit_tokens": 6,
                     "completion_tokens_details": {"reasoning_tokens": 12}}),
    ]
    events = decode(stream)
    assert events == [
        Start(id="chatcmpl-u", model="gpt-4o"),
        BlockStart(0, "reasoning"), ReasoningDelta(0, "Let me"), ReasoningDelta(0, " think."),
        BlockStop(0),
        BlockStart(1, "text"), TextDelta(1, "Answer"), TextDelta(1, ": 4"), BlockStop(1),
        Finish("stop"),
        UsageReport(Usage(10, 20, cached_input_tokens=6, reasoning_tokens=12)),
    ]


def test_vllm_reasoning_field_and_several_choices() -> None:
    stream = [
        chunk([delta({"reasoning": "r0"}, index=0), delta({"content": "b"}, index=1)]),
        chunk([delta({"content": "a"}, index=0), delta({"refusal": "no"}, index=1)]),
        chunk([delta({}, "stop", index=0), delta({}, "content_filter", index=1)]),
    ]
    result = fold(decode(stream))
    assert result.choices[0].reasoning()[0].text == "r0"
    assert result.choices[0].text() == "a"
    assert result.choices[1].text() == "b"
    assert result.choices[1].finish_reason == "content_filter"
    events = decode(stream)
    assert [e.index for e in events if isinstance(e, BlockStart) and e.choice == 1] == [0, 1]


def test_text_logprobs_are_kept() -> None:
    lp = {"content": [{"token": "Hi", "logprob": -0.2, "bytes": [72, 105],
                       "top_logprobs": [{"token": "Hi", "logprob": -0.2, "bytes": None}]}],
          "refusal": None}
    stream = [chunk([{**delta({"content": "Hi"}), "logprobs": lp}]), chunk([delta({}, "stop")])]
    result = fold(decode(stream))
    assert result.choices[0].logprobs is not None
    assert result.choices[0].logprobs[0].top[0].token == "Hi"


@pytest.mark.parametrize(
    ("stream", "tail"),
    [
        ([chunk([delta({"content": "cut"})])], [BlockStop(0), Finish("stop")]),
        ([chunk([delta({"role": "assistant"})])], [Finish("stop")]),
    ],
)
def test_close_finishes_open_choices(stream: list[dict[str, Any]], tail: list[Event]) -> None:
    assert decode(stream)[-len(tail):] == tail


def test_empty_stream_is_a_failure() -> None:
    events = ChunkDecoder().close()
    assert len(events) == 1 and isinstance(events[0], Failure)
    assert events[0].error.kind is ErrorKind.UPSTREAM


def test_error_chunk_is_a_failure_and_ends_decoding() -> None:
    decoder = ChunkDecoder()
    first = decoder.feed(chunk([delta({"content": "x"})]))
    failed = decoder.feed({"error": {"message": "overloaded", "type": "server_error"}})
    assert isinstance(first[0], Start)
    assert len(failed) == 1 and isinstance(failed[0], Failure)
    assert failed[0].error.message == "overloaded"
    assert decoder.feed(chunk([delta({"content": "y"})])) == []
    assert decoder.close() == []


def test_decoder_then_encoder_reproduces_the_openai_stream() -> None:
    encoder = ChunkEncoder(id="chatcmpl-u", model="gpt-4o", created=1, include_usage=True)
    out = [c for e in decode(OPENAI_STREAM) for c in encoder.feed(e)] + encoder.close()
    expected = [{**c, "choices": [{**ch, "delta": {k: v for k, v in ch["delta"].items()
                                                    if k != "refusal"}}
                                  for ch in c["choices"]]} for c in OPENAI_STREAM]
    expected[-1]["usage"] = {"prompt_tokens": 8, "completion_tokens": 2, "total_tokens": 10,
                             "prompt_tokens_details": {"cached_tokens": 0},
                             "completion_tokens_details": {"reasoning_tokens": 0}}
    assert out == expected


@pytest.mark.parametrize("bad", [[1, 2], "text", None])
def test_non_object_chunk_is_a_failure(bad: Any) -> None:
    events = ChunkDecoder().feed(bad)
    assert len(events) == 1 and isinstance(events[0], Failure)
