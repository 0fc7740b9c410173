"""encode_result, error_body, ping_event: what an Anthropic client receives."""

from __future__ import annotations

from typing import Any

import anthropic
import pytest

from switchyard.codecs.anthropic_messages import encode_result, error_body, ping_event
from switchyard.core.errors import ErrorKind, SwitchyardError
from switchyard.core.events import FinishReason
from switchyard.core.items import FunctionCall, Message, Reasoning, RefusalPart, TextPart
from switchyard.core.result import Choice, Result
from switchyard.core.usage import Usage
from tests.spec_anthropic import validate_anthropic


def _check(obj: dict[str, Any]) -> None:
    validate_anthropic(obj, "Message")
    anthropic.types.Message.model_validate(obj)


def test_full_message() -> None:
    result = Result(
        id="upstream-id", model="upstream-model",
        choices=[Choice(index=0, finish_reason="tool_calls", items=[
            Reasoning(text="think", signature="sig"),
            Reasoning(encrypted="opaque"),
            Message(role="assistant", content=[TextPart("Let me check.")]),
            FunctionCall(call_id="toolu_1", name="get_weather", arguments='{"city": "Paris"}'),
        ])],
        usage=Usage(input_tokens=100, output_tokens=20, cached_input_tokens=60,
                    cache_creation_input_tokens=30),
    )
    out = encode_result(result, id="msg_abc", model="claude-x")
    _check(out)
    assert out["id"] == "msg_abc" and out["model"] == "claude-x"
    assert out["type"] == "message" and out["role"] == "assistant"
    assert out["content"] == [
        {"type": "thinking", "thinking": "think", "signature": "sig"},
        {"type": "redacted_thinking", "data": "opaque"},
        {"type": "text", "text": "Let me check."},
        {"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {"city": "Paris"},
         "caller": {"type": "direct"}},
    ]
    assert out["stop_reason"] == "tool_use" and out["stop_sequence"] is None
    usage = out["usage"]
    assert (usage["input_tokens"], usage["output_tokens"]) == (10, 20)
    assert usage["cache_read_input_tokens"] == 60
    assert usage["cache_creation_input_tokens"] == 30
    sdk = anthropic.types.Message.model_validate(out)
    assert sdk.content[3].input == {"city": "Paris"}  # type: ignore[union-attr]


@pytest.mark.parametrize(("reason", "seq", "stop_reason", "stop_sequence"), [
    ("stop", None, "end_turn", None),
    ("stop", "END", "stop_sequence", "END"),
    ("length", None, "max_tokens", None),
    ("tool_calls", None, "tool_use", None),
    ("content_filter", None, "refusal", None),
    ("pause", None, "pause_turn", None),
])
def test_stop_reasons(reason: FinishReason, seq: str | None, stop_reason: str,
                      stop_sequence: str | None) -> None:
    result = Result(choices=[Choice(index=0, finish_reason=reason, stop_sequence=seq)])
    out = encode_result(result, id="msg_1", model="m")
    _check(out)
    assert (out["stop_reason"], out["stop_sequence"]) == (stop_reason, stop_sequence)


@pytest.mark.parametrize(("arguments", "expected"), [
    ('{"a": [1, 2]}', {"a": [1, 2]}),
    ("", {}),
    ("  ", {}),
    ('{"a": ', {}),
    ("[1]", {}),
])
def test_tool_input(arguments: str, expected: dict[str, Any]) -> None:
    result = Result(choices=[Choice(index=0, items=[FunctionCall("c", "f", arguments)])])
    out = encode_result(result, id="msg_1", model="m")
    _check(out)
    assert out["content"][0]["input"] == expected


def test_other_vendor_items() -> None:
    result = Result(choices=[
        Choice(index=0, finish_reason="content_filter", items=[
            Reasoning(text="", summary=["step one", "step two"]),
            Message(role="assistant", content=[RefusalPart("I can't help with that.")]),
        ]),
        Choice(index=1, items=[Message(role="assistant", content=[TextPart("other")])]),
    ])
    out = encode_result(result, id="msg_1", model="m")
    _check(out)
    assert out["content"] == [
        {"type": "thinking", "thinking": "step one\n\nstep two", "signature": ""},
        {"type": "text", "text": "I can't help with that."},
    ]


def test_empty_result() -> None:
    out = encode_result(Result(), id="msg_1", model="m")
    _check(out)
    assert out["content"] == [] and out["stop_reason"] == "end_turn"
    assert out["usage"]["input_tokens"] == 0


@pytest.mark.parametrize(("kind", "wire"), [
    (ErrorKind.INVALID_REQUEST, "invalid_request_error"),
    (ErrorKind.AUTHENTICATION, "authentication_error"),
    (ErrorKind.PERMISSION, "permission_error"),
    (ErrorKind.NOT_FOUND, "not_found_error"),
    (ErrorKind.RATE_LIMIT, "rate_limit_error"),
    (ErrorKind.QUOTA, "rate_limit_error"),
    (ErrorKind.UPSTREAM, "api_error"),
    (ErrorKind.SERVER, "api_error"),
    (ErrorKind.OVERLOADED, "overloaded_error"),
    (ErrorKind.TIMEOUT, "timeout_error"),
])
def test_error_body(kind: ErrorKind, wire: str) -> None:
    out = error_body(SwitchyardError(kind, "it broke"))
    validate_anthropic(out, "ErrorResponse")
    assert out["error"] == {"type": wire, "message": "it broke"}


def test_request_too_large_uses_anthropics_documented_type() -> None:
    out = error_body(SwitchyardError(ErrorKind.REQUEST_TOO_LARGE, "too big"))
    assert out == {"type": "error", "error": {"type": "request_too_large", "message": "too big"},
                   "request_id": None}


def test_ping() -> None:
    assert ping_event() == ("ping", {"type": "ping"})
