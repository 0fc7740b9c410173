"""encode_request: canonical Request → Anthropic /v1/messages body; and round trips."""

from __future__ import annotations

import base64
import copy
from typing import Any

import pytest

from switchyard.codecs.anthropic_messages import decode_request, encode_request
from switchyard.core.items import (
    FilePart,
    FunctionCall,
    FunctionCallOutput,
    ImagePart,
    Item,
    Message,
    Reasoning,
    RefusalPart,
    TextPart,
    text_message,
)
from switchyard.core.request import (
    ReasoningConfig,
    Request,
    ResponseFormat,
    Tool,
    ToolChoice,
)
from tests.codecs.test_anthropic_client_request import CLAUDE_CODE
from tests.spec_anthropic import validate_anthropic

EPHEMERAL = {"type": "ephemeral"}


def encode(request: Request) -> dict[str, Any]:
    out = encode_request(request, model="claude-sonnet-4-5")
    validate_anthropic(out, "CreateMessageParams")
    return out


def req(*items: Item, **kw: Any) -> Request:
    return Request(model="alias", items=list(items), **kw)


def test_minimal() -> None:
    out = encode(req(text_message("user", "Hi")))
    assert out == {"model": "claude-sonnet-4-5", "max_tokens": 4096,
                   "messages": [{"role": "user", "content": [{"type": "text", "text": "Hi"}]}]}


def test_system_leading_and_mid_conversation() -> None:
    out = encode(req(
        Message(role="system", content=[TextPart("A", cache_control=EPHEMERAL)]),
        text_message("developer", "B"),
        text_message("user", "q1"),
        text_message("assistant", "a1"),
        text_message("system", "plan mode"),
        text_message("user", "q2"),
    ))
    assert out["system"] == [{"type": "text", "text": "A", "cache_control": EPHEMERAL},
                             {"type": "text", "text": "B"}]
    assert out["messages"] == [
        {"role": "user", "content": [{"type": "text", "text": "q1"}]},
        {"role": "assistant", "content": [{"type": "text", "text": "a1"}]},
        {"role": "user", "content": [{"type": "text", "text": "<system>\nplan mode\n</system>"},
                                     {"type": "text", "text": "q2"}]},
    ]


def test_turns_merge_and_tool_results_go_first() -> None:
    out = encode(req(
        text_message("user", "weather?"),
        Reasoning(text="plan", signature="sig"),
        Reasoning(text="foreign reasoning without signature"),
        Reasoning(encrypted="opaque"),
        text_message("assistant", "checking"),
        FunctionCall("t1", "w", '{"city": "Paris"}'),
        FunctionCall("t2", "w", "not json"),
        text_message("system", "reminder"),
        FunctionCallOutput("t1", [TextPart("20C")]),
        FunctionCallOutput("t2", [TextPart("bad args")], is_error=True),
    ))
    assert out["messages"] == [
        {"role": "user", "content": [{"type": "text", "text": "weather?"}]},
        {"role": "assistant", "content": [
            {"type": "thinking", "thinking": "plan", "signature": "sig"},
            {"type": "redacted_thinking", "data": "opaque"},
            {"type": "text", "text": "checking"},
            {"type": "tool_use", "id": "t1", "name": "w", "input": {"city": "Paris"}},
            {"type": "tool_use", "id": "t2", "name": "w", "input": {}},
        ]},
        {"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": "t1",
             "content": [{"type": "text", "text": "20C"}]},
            {"type": "tool_result", "tool_use_id": "t2", "is_error": True,
             "content": [{"type": "text", "text": "bad args"}]},
            {"type": "text", "text": "<system>\nreminder\n</system>"},
        ]},
    ]


@pytest.mark.parametrize(("part", "block"), [
    (ImagePart(data="iV", media_type="image/jpeg"),
     {"type": "image", "source": {"type": "base64", "media_type": "image/jpeg", "data": "iV"}}),
    (ImagePart(url="data:image/gif;base64,R0lG"),
     {"type": "image", "source": {"type": "base64", "media_type": "image/gif", "data": "R0lG"}}),
    (ImagePart(url="https://x/y.png"),
     {"type": "image", "source": {"type": "url", "url": "https://x/y.png"}}),
    (FilePart(data="JVBE", media_type="application/pdf", filename="a.pdf"),
     {"type": "document", "title": "a.pdf",
      "source": {"type": "base64", "media_type": "application/pdf", "data": "JVBE"}}),
    (FilePart(data=base64.b64encode(b"plain").decode(), media_type="text/plain"),
     {"type": "document", "source": {"type": "text", "media_type": "text/plain", "data": "plain"}}),
    (FilePart(url="https://x/a.pdf"),
     {"type": "document", "source": {"type": "url", "url": "https://x/a.pdf"}}),
    (FilePart(file_id="file_1"),
     {"type": "document", "source": {"type": "file", "file_id": "file_1"}}),
    (RefusalPart("no"), {"type": "text", "text": "no"}),
])
def test_user_parts(part: Any, block: dict[str, Any]) -> None:
    out = encode_request(req(Message(role="user", content=[part])), model="m")
    assert out["messages"][0]["content"] == [block]


def test_empty_text_parts_are_skipped() -> None:
    out = encode(req(Message(role="user", content=[TextPart(""), TextPart("x")]),
                     Message(role="assistant", content=[TextPart("")])))
    assert out["messages"] == [{"role": "user", "content": [{"type": "text", "text": "x"}]}]


@pytest.mark.parametrize(("choice", "parallel", "expected"), [
    (None, None, None),
    (ToolChoice("auto"), None, {"type": "auto"}),
    (ToolChoice("required"), None, {"type": "any"}),
    (ToolChoice("none"), False, {"type": "none"}),
    (ToolChoice("tool", "f"), None, {"type": "tool", "name": "f"}),
    (None, False, {"type": "auto", "disable_parallel_tool_use": True}),
    (ToolChoice("required"), False, {"type": "any", "disable_parallel_tool_use": True}),
])
def test_tools_and_choice(choice: ToolChoice | None, parallel: bool | None,
                          expected: dict[str, Any] | None) -> None:
    tool = Tool("f", "does f", {"properties": {"x": {"type": "integer"}}}, strict=True)
    out = encode(req(text_message("user", "x"), tools=[tool], tool_choice=choice,
                     parallel_tool_calls=parallel))
    assert out["tools"] == [{"name": "f", "description": "does f", "strict": True,
                             "input_schema": {"type": "object",
                                              "properties": {"x": {"type": "integer"}}}}]
    assert out.get("tool_choice") == expected


def test_no_tools_no_tool_choice() -> None:
    out = encode(req(text_message("user", "x"), tool_choice=ToolChoice("required")))
    assert "tools" not in out and "tool_choice" not in out


@pytest.mark.parametrize(("reasoning", "max_out", "thinking", "max_tokens"), [
    (None, None, None, 4096),
    (ReasoningConfig(enabled=False), None, {"type": "disabled"}, 4096),
    (ReasoningConfig(budget_tokens=2000), None, {"type": "enabled", "budget_tokens": 2000}, 6096),
    (ReasoningConfig(budget_tokens=8000), 5000, {"type": "enabled", "budget_tokens": 4999}, 5000),
    (ReasoningConfig(effort="low"), 8000, {"type": "enabled", "budget_tokens": 1024}, 8000),
    (ReasoningConfig(effort="medium"), None, {"type": "enabled", "budget_tokens": 4096}, 8192),
    (ReasoningConfig(effort="high"), 32000, {"type": "enabled", "budget_tokens": 16384}, 32000),
    (ReasoningConfig(), 32000, {"type": "enabled", "budget_tokens": 4096}, 32000),
    (ReasoningConfig(effort="high"), 1000, None, 1000),
    (ReasoningConfig(effort="none"), None, None, 4096),
])
def test_thinking(reasoning: ReasoningConfig | None, max_out: int | None,
                  thinking: dict[str, Any] | None, max_tokens: int) -> None:
    out = encode(req(text_message("user", "x"), reasoning=reasoning, max_output_tokens=max_out))
    assert out.get("thinking") == thinking
    assert out["max_tokens"] == max_tokens


def test_sampling_fields() -> None:
    out = encode(req(text_message("user", "x"), temperature=1.7, top_p=0.9, top_k=5,
                     stop=["END"], user="u-1", stream=True, seed=3, n=2, logprobs=True,
                     metadata={"k": "v"}))
    assert out["temperature"] == 1.0 and out["top_p"] == 0.9 and out["top_k"] == 5
    assert out["stop_sequences"] == ["END"]
    assert out["metadata"] == {"user_id": "u-1"}
    assert out["stream"] is True
    assert not {"seed", "n", "logprobs"} & out.keys()


def test_sampling_dropped_with_thinking() -> None:
    out = encode(req(text_message("user", "x"), temperature=0.2, top_p=0.5, top_k=5,
                     reasoning=ReasoningConfig(budget_tokens=1024)))
    assert not {"temperature", "top_p", "top_k"} & out.keys()


def test_response_format() -> None:
    schema = {"type": "object", "properties": {"a": {"type": "string"}}}
    out = encode(req(text_message("user", "x"),
                     response_format=ResponseFormat("json_schema", schema, name="n", strict=True)))
    assert out["output_config"] == {"format": {"type": "json_schema", "schema": schema}}
    out = encode(req(text_message("user", "x"), response_format=ResponseFormat("json_object")))
    assert "output_config" not in out


def test_claude_code_round_trip() -> None:
    body = copy.deepcopy(CLAUDE_CODE)
    out = encode_request(decode_request(body), model="claude-opus-4-6")
    validate_anthropic(out, "CreateMessageParams")
    assert out["system"] == body["system"]
    assert out["messages"][0] == body["messages"][0]
    assert out["messages"][1] == body["messages"][1]
    assert out["messages"][2] == {"role": "user", "content": [
        {"type": "tool_result", "tool_use_id": "toolu_01",
         "content": [{"type": "text", "text": "a.py\nb.py"}]},
        {"type": "text", "text": "<system>\nThe user switched to plan mode.\n</system>"},
        {"type": "text", "text": "now read a.py"},
    ]}
    assert out["tools"][0]["input_schema"] == body["tools"][0]["input_schema"]
    assert out["tool_choice"] == {"type": "auto"}
    assert out["thinking"] == {"type": "enabled", "budget_tokens": 16384}
    assert out["max_tokens"] == 32000
    assert out["metadata"] == body["metadata"]
    assert out["stream"] is True


def test_round_trip_keeps_signatures_and_errors() -> None:
    body = {
        "model": "m", "max_tokens": 2048,
        "messages": [
            {"role": "user", "content": "go"},
            {"role": "assistant", "content": [
                {"type": "thinking", "thinking": "t", "signature": "SIG=="},
                {"type": "redacted_thinking", "data": "REDACTED=="},
                {"type": "tool_use", "id": "toolu_9", "name": "f", "input": {"a": 1}},
            ]},
            {"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": "toolu_9", "is_error": True,
                 "content": [{"type": "text", "text": "failed"}]},
                {"type": "image", "source": {"type": "base64", "media_type": "image/png",
                                             "data": "iVBO"}},
            ]},
        ],
        "thinking": {"type": "enabled", "budget_tokens": 1024},
    }
    out = encode_request(decode_request(copy.deepcopy(body)), model="m")
    validate_anthropic(out, "CreateMessageParams")
    assert out["messages"][1:] == body["messages"][1:]
    assert out["thinking"] == body["thinking"]


def test_tool_result_cache_control_survives_the_round_trip() -> None:
    body = {"model": "m", "max_tokens": 10, "messages": [
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t",
                                      "content": "out", "cache_control": EPHEMERAL}]}]}
    out = encode(decode_request(body))
    assert out["messages"][0]["content"] == [
        {"type": "tool_result", "tool_use_id": "t",
         "content": [{"type": "text", "text": "out", "cache_control": EPHEMERAL}]}]
