"""encode_result and error_body (client side), decode_response (upstream side)."""

from __future__ import annotations

from typing import Any

import pytest
from openai.types.chat import ChatCompletion

from switchyard.codecs.openai_chat import decode_response, encode_result, error_body
from switchyard.codecs.openai_chat.wire import error_from_body
from switchyard.core.errors import ErrorKind, SwitchyardError, invalid
from switchyard.core.events import (
    ArgumentsDelta,
    BlockStart,
    BlockStop,
    Failure,
    Finish,
    ReasoningDelta,
    Start,
    TextDelta,
    TokenLogprob,
    TopLogprob,
    UsageReport,
)
from switchyard.core.items import FunctionCall, Message, Reasoning, RefusalPart, TextPart
from switchyard.core.result import Choice, Result, fold
from switchyard.core.usage import Usage
from tests.spec import validate_openai

USAGE = Usage(input_tokens=10, output_tokens=5, cached_input_tokens=4, reasoning_tokens=2)


def encode(result: Result) -> dict[str, Any]:
    out = encode_result(result, id="chatcmpl-1", model="gpt-4o", created=1700000000)
    validate_openai(out, "CreateChatCompletionResponse")
    ChatCompletion.model_validate(out)
    return out


def test_text_result_matches_openai_shape() -> None:
    result = Result(choices=[Choice(0, [Message("assistant", [TextPart("Hello!")])])],
                    usage=USAGE)
    assert encode(result) == {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 1700000000,
        "model": "gpt-4o",
        "choices": [{
            "index": 0,
            "message": {"role": "assistant", "content": "Hello!", "refusal": None,
                        "annotations": []},
            "logprobs": None,
            "finish_reason": "stop",
        }],
        "usage": {
            "prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15,
            "prompt_tokens_details": {"cached_tokens": 4},
            "completion_tokens_details": {"reasoning_tokens": 2},
        },
    }


@pytest.mark.parametrize(
    ("choice", "message", "finish"),
    [
        (Choice(0, [FunctionCall("call_1", "f", "{}"), FunctionCall("call_2", "g", '{"a":1}')],
                finish_reason="tool_calls"),
         {"role": "assistant", "content": None, "refusal": None, "annotations": [],
          "tool_calls": [
              {"id": "call_1", "type": "function", "function": {"name": "f", "arguments": "{}"}},
              {"id": "call_2", "type": "function",
               "function": {"name": "g", "arguments": '{"a":1}'}}]},
         "tool_calls"),
        (Choice(0, [Message("assistant", [RefusalPart("I can't")])]),
         {"role": "assistant", "content": None, "refusal": "I can't", "annotations": []},
         "stop"),
        (Choice(0, [Reasoning(text="think"), Message("assistant", [TextPart("42")])],
                finish_reason="length"),
         {"role": "assistant", "content": "42", "refusal": None, "annotations": [],
          "reasoning_content": "think"},
         "length"),
        (Choice(0, [], finish_reason="pause"),
         {"role": "assistant", "content": "", "refusal": None, "annotations": []},
         "stop"),
        (Choice(0, [Message("assistant", [TextPart("")])], finish_reason="content_filter"),
         {"role": "assistant", "content": "", "refusal": None, "annotations": []},
         "content_filter"),
    ],
)
def test_choice_shapes(choice: Choice, message: dict[str, Any], finish: str) -> None:
    out = encode(Result(choices=[choice]))
    assert out["choices"][0]["message"] == message
    assert out["choices"][0]["finish_reason"] == finish


def test_logprobs_and_several_choices() -> None:
    lp = [TokenLogprob("Hi", -0.1, [72, 105], [TopLogprob("Hi", -0.1, [72, 105]),
                                               TopLogprob("Hey", -2.5, None)])]
    result = Result(choices=[
        Choice(0, [Message("assistant", [TextPart("Hi")])], logprobs=lp),
        Choice(1, [Message("assistant", [TextPart("Yo")])]),
    ])
    out = encode(result)
    assert [c["index"] for c in out["choices"]] == [0, 1]
    assert out["choices"][0]["logprobs"] == {
        "content": [{"token": "Hi", "logprob": -0.1, "bytes": [72, 105], "top_logprobs": [
            {"token": "Hi", "logprob": -0.1, "bytes": [72, 105]},
            {"token": "Hey", "logprob": -2.5, "bytes": None}]}],
        "refusal": None,
    }
    assert out["choices"][1]["logprobs"] is None


def test_system_fingerprint_only_when_given() -> None:
    out = encode_result(Result(), id="x", model="m", created=1, system_fingerprint="fp_1")
    assert out["system_fingerprint"] == "fp_1"
    assert "system_fingerprint" not in encode_result(Result(), id="x", model="m", created=1)


@pytest.mark.parametrize(
    ("kind", "etype", "code"),
    [
        (ErrorKind.INVALID_REQUEST, "invalid_request_error", None),
        (ErrorKind.AUTHENTICATION, "authentication_error", None),
        (ErrorKind.PERMISSION, "permission_error", None),
        (ErrorKind.NOT_FOUND, "not_found_error", None),
        (ErrorKind.REQUEST_TOO_LARGE, "invalid_request_error", None),
        (ErrorKind.RATE_LIMIT, "rate_limit_error", None),
        (ErrorKind.QUOTA, "insufficient_quota", "insufficient_quota"),
        (ErrorKind.UPSTREAM, "api_error", None),
        (ErrorKind.OVERLOADED, "server_error", None),
        (ErrorKind.TIMEOUT, "timeout", None),
        (ErrorKind.SERVER, "server_error", None),
    ],
)
def test_error_body(kind: ErrorKind, etype: str, code: str | None) -> None:
    out = error_body(SwitchyardError(kind, "boom"))
    validate_openai(out, "ErrorResponse")
    assert out == {"error": {"message": "boom", "type": etype, "param": None, "code": code}}


def test_error_body_keeps_param_and_code() -> None:
    out = error_body(invalid("bad", "messages[0].role", "invalid_value"))
    assert out["error"]["param"] == "messages[0].role"
    assert out["error"]["code"] == "invalid_value"


@pytest.mark.parametrize(
    ("body", "status", "kind"),
    [
        ({"error": {"message": "ctx too long", "type": "invalid_request_error",
                    "code": "context_length_exceeded", "param": "messages"}}, 400,
         ErrorKind.INVALID_REQUEST),
        ({"error": {"message": "slow down", "type": "requests"}}, 429, ErrorKind.RATE_LIMIT),
        ({"error": {"message": "oops", "type": "server_error"}}, 500, ErrorKind.UPSTREAM),
        ({"error": "plain string"}, None, ErrorKind.UPSTREAM),
        ({"message": "inner only", "type": "rate_limit_error"}, None, ErrorKind.RATE_LIMIT),
    ],
)
def test_error_from_body(body: dict[str, Any], status: int | None, kind: ErrorKind) -> None:
    err = error_from_body(body, status)
    assert err.kind is kind
    assert err.message


# --- upstream side -------------------------------------------------------------------------

OPENAI_BODY = {
    "id": "chatcmpl-abc",
    "object": "chat.completion",
    "created": 1741569952,
    "model": "gpt-4o-2024-08-06",
    "choices": [{
        "index": 0,
        "message": {"role": "assistant", "content": "Hello! How can I help?", "refusal": None,
                    "annotations": []},
        "logprobs": None,
        "finish_reason": "stop",
    }],
    "usage": {
        "prompt_tokens": 19, "completion_tokens": 10, "total_tokens": 29,
        "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
        "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0,
                                      "accepted_prediction_tokens": 0,
                                      "rejected_prediction_tokens": 0},
    },
    "service_tier": "default",
    "system_fingerprint": "fp_fc9f1d7035",
}


def test_decode_openai_response() -> None:
    events = decode_response(OPENAI_BODY)
    assert events == [
        Start(id="chatcmpl-abc", model="gpt-4o-2024-08-06"),
        BlockStart(0, "text"),
        TextDelta(0, "Hello! How can I help?"),
        BlockStop(0),
        Finish("stop"),
        UsageReport(Usage(input_tokens=19, output_tokens=10)),
    ]


def test_decode_deepseek_tool_call_response() -> None:
    body = {
        "id": "x", "model": "deepseek-reasoner",
        "choices": [{"index": 0, "finish_reason": "tool_calls", "message": {
            "role": "assistant", "content": "", "reasoning_content": "need weather",
            "tool_calls": [{"id": "call_0", "type": "function",
                            "function": {"name": "w", "arguments": "{\"c\":1}"}}]}}],
        "usage": {"prompt_tokens": 5, "completion_tokens": 7, "total_tokens": 12,
                  "prompt_cache_hit_tokens": 3,
                  "completion_tokens_details": {"reasoning_tokens": 4}},
    }
    events = decode_response(body)
    assert events[1:] == [
        BlockStart(0, "reasoning"), ReasoningDelta(0, "need weather"), BlockStop(0),
        BlockStart(1, "tool_call", call_id="call_0", name="w"), ArgumentsDelta(1, "{\"c\":1}"),
        BlockStop(1),
        Finish("tool_calls"),
        UsageReport(Usage(input_tokens=5, output_tokens=7, cached_input_tokens=3,
                          reasoning_tokens=4)),
    ]
    result = fold(events)
    assert result.choices[0].tool_calls() == [FunctionCall("call_0", "w", "{\"c\":1}")]
    assert result.choices[0].reasoning()[0].text == "need weather"


def test_decode_response_with_several_choices_and_refusal_and_logprobs() -> None:
    body = {
        "id": "x", "model": "m",
        "choices": [
            {"index": 0, "finish_reason": "stop",
             "message": {"role": "assistant", "content": None, "refusal": "no"}},
            {"index": 1, "finish_reason": "length",
             "message": {"role": "assistant", "content": "Hi", "reasoning": "r"},
             "logprobs": {"content": [{"token": "Hi", "logprob": -0.5, "bytes": [72, 105],
                                       "top_logprobs": []}], "refusal": None}},
        ],
    }
    result = fold(decode_response(body))
    assert result.choices[0].items == [Message("assistant", [RefusalPart("no")])]
    assert result.choices[1].text() == "Hi"
    assert result.choices[1].finish_reason == "length"
    assert result.choices[1].reasoning()[0].text == "r"
    assert result.choices[1].logprobs == [TokenLogprob("Hi", -0.5, [72, 105], [])]


def test_decode_response_round_trips_through_encode_result() -> None:
    result = fold(decode_response(OPENAI_BODY))
    out = encode_result(result, id=OPENAI_BODY["id"], model=OPENAI_BODY["model"],
                        created=OPENAI_BODY["created"])
    assert out["choices"] == OPENAI_BODY["choices"]


def test_decode_error_body() -> None:
    events = decode_response({"error": {"message": "bad key", "type": "invalid_request_error"}})
    assert len(events) == 1 and isinstance(events[0], Failure)


def test_decode_non_object_body() -> None:
    events = decode_response(["not", "an", "object"])
    assert len(events) == 1 and isinstance(events[0], Failure)
