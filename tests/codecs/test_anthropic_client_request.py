"""decode_request: Anthropic /v1/messages bodies → canonical Request."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from switchyard.codecs.anthropic_messages import decode_request
from switchyard.core.errors import ErrorKind, SwitchyardError
from switchyard.core.items import (
    FilePart,
    FunctionCall,
    FunctionCallOutput,
    ImagePart,
    Message,
    Reasoning,
    TextPart,
)
from switchyard.core.request import ReasoningConfig, ResponseFormat, ToolChoice

EPHEMERAL = {"type": "ephemeral"}


def body(**kw: Any) -> dict[str, Any]:
    return {"model": "claude-sonnet-4-5", "max_tokens": 1024,
            "messages": [{"role": "user", "content": "Hi"}], **kw}


CLAUDE_CODE = {
    "model": "claude-opus-4-6",
    "max_tokens": 32000,
    "stream": True,
    "system": [
        {"type": "text", "text": "You are Claude Code, Anthropic's official CLI for Claude."},
        {"type": "text", "text": "Follow the repo's conventions.", "cache_control": EPHEMERAL},
    ],
    "messages": [
        {"role": "user", "content": [
            {"type": "text", "text": "<system-reminder>ctx</system-reminder>"},
            {"type": "text", "text": "list the files", "cache_control": EPHEMERAL},
        ]},
        {"role": "assistant", "content": [
            {"type": "thinking", "thinking": "Use ls.", "signature": "EqQBCkgIAR..."},
            {"type": "text", "text": "Listing."},
            {"type": "tool_use", "id": "toolu_01", "name": "Bash", "input": {"command": "ls"}},
        ]},
        {"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": "toolu_01", "content": "a.py\nb.py"},
        ]},
        {"role": "system", "content": "The user switched to plan mode."},
        {"role": "user", "content": "now read a.py"},
    ],
    "tools": [{
        "name": "Bash",
        "description": "Run a shell command",
        "input_schema": {
            "$schema": "http://json-schema.org/draft-07/schema#",
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "command": {"type": "string"},
                "timeout": {"type": "number", "exclusiveMinimum": 0},
            },
            "required": ["command"],
        },
        "cache_control": EPHEMERAL,
    }],
    "tool_choice": {"type": "auto"},
    "thinking": {"type": "adaptive"},
    "output_config": {"effort": "high"},
    "context_management": {"edits": [{"type": "clear_thinking_20251015", "keep": "all"}]},
    "metadata": {"user_id": json.dumps({"device_id": "abc", "session_id": "s1"})},
}


def test_claude_code_request() -> None:
    req = decode_request(CLAUDE_CODE)
    assert req.model == "claude-opus-4-6"
    assert req.max_output_tokens == 32000
    assert req.stream is True
    assert req.items == [
        Message(role="system", content=[
            TextPart("You are Claude Code, Anthropic's official CLI for Claude."),
            TextPart("Follow the repo's conventions.", cache_control=EPHEMERAL),
        ]),
        Message(role="user", content=[
            TextPart("<system-reminder>ctx</system-reminder>"),
            TextPart("list the files", cache_control=EPHEMERAL),
        ]),
        Reasoning(text="Use ls.", signature="EqQBCkgIAR..."),
        Message(role="assistant", content=[TextPart("Listing.")]),
        FunctionCall(call_id="toolu_01", name="Bash", arguments='{"command": "ls"}'),
        FunctionCallOutput(call_id="toolu_01", output=[TextPart("a.py\nb.py")]),
        Message(role="system", content=[TextPart("The user switched to plan mode.")]),
        Message(role="user", content=[TextPart("now read a.py")]),
    ]
    [tool] = req.tools
    assert tool.name == "Bash" and tool.description == "Run a shell command"
    assert tool.parameters == CLAUDE_CODE["tools"][0]["input_schema"]
    assert req.tool_choice == ToolChoice(mode="auto")
    assert req.parallel_tool_calls is None
    assert req.reasoning == ReasoningConfig(enabled=True, effort="high")
    assert req.user == CLAUDE_CODE["metadata"]["user_id"]


@pytest.mark.parametrize(("content", "expected"), [
    (
        [{"type": "tool_result", "tool_use_id": "a", "content": "1"},
         {"type": "tool_result", "tool_use_id": "b", "is_error": True,
          "content": [{"type": "text", "text": "boom"}]},
         {"type": "text", "text": "go on"}],
        [FunctionCallOutput("a", [TextPart("1")]),
         FunctionCallOutput("b", [TextPart("boom")], is_error=True),
         Message(role="user", content=[TextPart("go on")])],
    ),
    (
        [{"type": "tool_result", "tool_use_id": "a"}],
        [FunctionCallOutput("a", [])],
    ),
    (
        [{"type": "tool_result", "tool_use_id": "a", "content": [
            {"type": "image", "source": {"type": "url", "url": "https://x/y.png"}}]}],
        [FunctionCallOutput("a", [ImagePart(url="https://x/y.png")])],
    ),
    (
        [{"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iV"}},
         {"type": "document", "title": "spec.pdf",
          "source": {"type": "base64", "media_type": "application/pdf", "data": "JVBE"}},
         {"type": "document", "source": {"type": "url", "url": "https://x/a.pdf"}},
         {"type": "document", "source": {"type": "file", "file_id": "file_1"}},
         {"type": "document",
          "source": {"type": "text", "media_type": "text/plain", "data": "hé"}}],
        [Message(role="user", content=[
            ImagePart(data="iV", media_type="image/png"),
            FilePart(data="JVBE", media_type="application/pdf", filename="spec.pdf"),
            FilePart(url="https://x/a.pdf", media_type="application/pdf"),
            FilePart(file_id="file_1"),
            FilePart(data=base64.b64encode("hé".encode()).decode(), media_type="text/plain"),
        ])],
    ),
])
def test_user_blocks_keep_order(content: list[dict[str, Any]], expected: list[Any]) -> None:
    req = decode_request(body(messages=[{"role": "user", "content": content}]))
    assert req.items == expected


def test_assistant_blocks_keep_order() -> None:
    content = [
        {"type": "thinking", "thinking": "hmm", "signature": "sig"},
        {"type": "redacted_thinking", "data": "opaque"},
        {"type": "text", "text": "A"},
        {"type": "tool_use", "id": "t1", "name": "f", "input": {"q": "é"}},
        {"type": "text", "text": "B"},
    ]
    req = decode_request(body(messages=[
        {"role": "user", "content": "x"}, {"role": "assistant", "content": content}]))
    assert req.items[1:] == [
        Reasoning(text="hmm", signature="sig"),
        Reasoning(encrypted="opaque"),
        Message(role="assistant", content=[TextPart("A")]),
        FunctionCall(call_id="t1", name="f", arguments='{"q": "é"}'),
        Message(role="assistant", content=[TextPart("B")]),
    ]


@pytest.mark.parametrize(("system", "expected"), [
    ("Be brief.", [Message(role="system", content=[TextPart("Be brief.")])]),
    ("", []),
    ([], []),
    ([{"type": "text", "text": "A", "cache_control": EPHEMERAL}],
     [Message(role="system", content=[TextPart("A", cache_control=EPHEMERAL)])]),
])
def test_system(system: Any, expected: list[Message]) -> None:
    assert decode_request(body(system=system)).items[:-1] == expected


@pytest.mark.parametrize(("choice", "mode", "name", "parallel"), [
    ({"type": "auto"}, "auto", None, None),
    ({"type": "any"}, "required", None, None),
    ({"type": "none"}, "none", None, None),
    ({"type": "tool", "name": "f"}, "tool", "f", None),
    ({"type": "auto", "disable_parallel_tool_use": True}, "auto", None, False),
    ({"type": "any", "disable_parallel_tool_use": False}, "required", None, None),
])
def test_tool_choice(choice: dict[str, Any], mode: str, name: str | None,
                     parallel: bool | None) -> None:
    req = decode_request(body(tool_choice=choice))
    assert req.tool_choice == ToolChoice(mode=mode, name=name)  # type: ignore[arg-type]
    assert req.parallel_tool_calls is parallel


@pytest.mark.parametrize(("extra", "expected"), [
    ({"thinking": {"type": "enabled", "budget_tokens": 2048}},
     ReasoningConfig(enabled=True, budget_tokens=2048)),
    ({"thinking": {"type": "adaptive"}}, ReasoningConfig(enabled=True)),
    ({"thinking": {"type": "disabled"}}, ReasoningConfig(enabled=False)),
    ({"output_config": {"effort": "low"}}, ReasoningConfig(enabled=True, effort="low")),
    ({"thinking": {"type": "disabled"}, "output_config": {"effort": "max"}},
     ReasoningConfig(enabled=False, effort="max")),
    ({}, None),
])
def test_thinking(extra: dict[str, Any], expected: ReasoningConfig | None) -> None:
    assert decode_request(body(**extra)).reasoning == expected


@pytest.mark.parametrize("extra", [
    {"output_config": {"format": {"type": "json_schema", "schema": {"type": "object"}}}},
    {"output_format": {"type": "json_schema", "schema": {"type": "object"}}},
])
def test_structured_output(extra: dict[str, Any]) -> None:
    assert decode_request(body(**extra)).response_format == ResponseFormat(
        type="json_schema", schema={"type": "object"}, strict=True)


def test_sampling_and_passthrough_fields() -> None:
    req = decode_request(body(
        stop_sequences=["END"], temperature=0.5, top_p=0.9, top_k=40, stream=False,
        service_tier="auto", container="c1", mcp_servers=[], some_future_field={"x": 1},
    ))
    assert (req.stop, req.temperature, req.top_p, req.top_k) == (["END"], 0.5, 0.9, 40)
    assert req.stream is False and req.user is None and req.metadata == {}


def test_custom_tool_type_and_strict() -> None:
    tools = [{"type": "custom", "name": "f", "input_schema": {"type": "object"}, "strict": True}]
    [tool] = decode_request(body(tools=tools)).tools
    assert tool.name == "f" and tool.strict is True and tool.description is None


def _error(b: dict[str, Any]) -> SwitchyardError:
    with pytest.raises(SwitchyardError) as info:
        decode_request(b)
    assert info.value.kind == ErrorKind.INVALID_REQUEST
    assert info.value.status == 400
    return info.value


@pytest.mark.parametrize(("b", "param"), [
    ({"max_tokens": 1, "messages": []}, "model"),
    (body(model=""), "model"),
    ({"model": "m", "messages": [{"role": "user", "content": "x"}]}, "max_tokens"),
    (body(max_tokens=0), "max_tokens"),
    (body(max_tokens="10"), "max_tokens"),
    (body(max_tokens=True), "max_tokens"),
    ({"model": "m", "max_tokens": 1}, "messages"),
    (body(messages=[]), "messages"),
    (body(messages="hi"), "messages"),
    (body(messages=[{"role": "tool", "content": "x"}]), "messages[0].role"),
    (body(messages=[{"role": "user"}]), "messages[0].content"),
    (body(messages=[{"role": "user", "content": [{"type": "text", "text": "a"},
                                                 {"type": "bogus"}]}]),
     "messages[0].content[1].type"),
    (body(messages=[{"role": "user", "content": [{"text": "a"}]}]),
     "messages[0].content[0].type"),
    (body(messages=[{"role": "user", "content": [{"type": "text"}]}]),
     "messages[0].content[0].text"),
    (body(messages=[{"role": "user", "content": [
        {"type": "tool_use", "id": "t", "name": "f", "input": {}}]}]),
     "messages[0].content[0].type"),
    (body(messages=[{"role": "assistant", "content": [
        {"type": "tool_use", "id": "t", "name": "f", "input": "{}"}]}]),
     "messages[0].content[0].input"),
    (body(messages=[{"role": "assistant", "content": [{"type": "thinking", "thinking": "x"}]}]),
     "messages[0].content[0].signature"),
    (body(messages=[{"role": "user", "content": [
        {"type": "image", "source": {"type": "base64", "data": "x"}}]}]),
     "messages[0].content[0].source.media_type"),
    (body(messages=[{"role": "user", "content": [
        {"type": "image", "source": {"type": "ftp", "url": "x"}}]}]),
     "messages[0].content[0].source.type"),
    (body(messages=[{"role": "user", "content": [
        {"type": "tool_result", "tool_use_id": "t", "is_error": "yes"}]}]),
     "messages[0].content[0].is_error"),
    (body(system=[{"type": "image"}]), "system[0].type"),
    (body(system=42), "system"),
    (body(tools=[{"name": "f"}]), "tools[0].input_schema"),
    (body(tools=[{"input_schema": {}}]), "tools[0].name"),
    (body(tool_choice={"type": "sometimes"}), "tool_choice.type"),
    (body(tool_choice={"type": "tool"}), "tool_choice.name"),
    (body(temperature=1.5), "temperature"),
    (body(top_k=-1), "top_k"),
    (body(stop_sequences=["a", 1]), "stop_sequences[1]"),
    (body(thinking={"type": "enabled"}), "thinking.budget_tokens"),
    (body(thinking={"type": "enabled", "budget_tokens": 100}), "thinking.budget_tokens"),
    (body(thinking={"type": "on"}), "thinking.type"),
    (body(output_config={"effort": "extreme"}), "output_config.effort"),
    (body(output_config={"format": {"type": "json_schema"}}), "output_config.format.schema"),
    (body(metadata={"user_id": 7}), "metadata.user_id"),
    (body(stream="yes"), "stream"),
])
def test_invalid_names_the_field(b: dict[str, Any], param: str) -> None:
    err = _error(b)
    assert err.param == param
    assert param in err.message


@pytest.mark.parametrize(("b", "param"), [
    (body(messages=[{"role": "assistant", "content": [
        {"type": "container_upload", "file_id": "f"}]}]),
     "messages[0].content[0].type"),
    (body(messages=[{"role": "user", "content": [
        {"type": "image", "source": {"type": "file", "file_id": "f"}}]}]),
     "messages[0].content[0].source.type"),
])
def test_unsupported_names_the_field(b: dict[str, Any], param: str) -> None:
    err = _error(b)
    assert err.param == param
    assert err.code == "unsupported_parameter"


def test_body_must_be_an_object() -> None:
    assert _error([]).param == "body"  # type: ignore[arg-type]
