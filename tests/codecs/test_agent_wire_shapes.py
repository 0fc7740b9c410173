"""What coding agents send that plain SDK clients do not: Codex's custom, namespace and
hosted tools and its history items; Claude Code's server tools and tool references."""

from __future__ import annotations

import json

import pytest

from switchyard.codecs.anthropic_messages import decode_request as decode_messages
from switchyard.codecs.anthropic_messages import encode_request as encode_anthropic
from switchyard.codecs.openai_responses import (
    ResponsesStreamEncoder,
    decode_request,
    items_to_canonical,
    items_to_output,
)
from switchyard.codecs.openai_responses.opaque import pack, unpack, unpack_text
from switchyard.codecs.openai_responses.tool_names import flat_name, tool_kinds
from switchyard.core.events import ArgumentsDelta, BlockStart, BlockStop, Finish, Start
from switchyard.core.items import FunctionCall, FunctionCallOutput, Reasoning, TextPart
from switchyard.core.request import ToolChoice

PATCH = {"type": "custom", "name": "apply_patch", "description": "Edit files.",
         "format": {"type": "grammar", "syntax": "lark", "definition": "start: /.+/"}}
NAMESPACE = {"type": "namespace", "name": "multi_agent_v1", "description": "Sub-agents.",
             "tools": [{"type": "function", "name": "close_agent", "strict": False,
                        "parameters": {"type": "object", "properties": {"target": {"type": "string"}}}}]}
EXEC = {"type": "function", "name": "exec_command", "strict": False,
        "parameters": {"type": "object", "properties": {"cmd": {"type": "string"}}, "required": ["cmd"]}}
HOSTED = [{"type": "web_search", "external_web_access": False},
          {"type": "tool_search", "execution": "client", "description": "d", "parameters": {"type": "object"}}]


def ids(prefix: str) -> str:
    return prefix + "1"


def test_codex_tools_become_canonical_functions() -> None:
    call = decode_request({"model": "m", "tools": [EXEC, PATCH, NAMESPACE, *HOSTED]}, new_item_id=ids)
    names = [t.name for t in call.function_tools]
    assert names == ["exec_command", "apply_patch", "multi_agent_v1__close_agent"]
    patch = call.function_tools[1]
    assert patch.parameters["required"] == ["input"]
    assert "start: /.+/" in patch.parameters["properties"]["input"]["description"]
    assert [t["type"] for t in call.tools_wire] == ["function", "custom", "namespace", "web_search", "tool_search"]


@pytest.mark.parametrize(("namespace", "name", "flat"), [
    (None, "f", "f"),
    ("crm", "lookup", "crm__lookup"),
    ("mcp__github__", "create_issue", "mcp__github__create_issue"),
])
def test_flat_names(namespace: str | None, name: str, flat: str) -> None:
    assert flat_name(namespace, name) == flat


def test_long_flat_names_stay_within_64_characters_and_distinct() -> None:
    a, b = flat_name("n" * 40, "x" * 30), flat_name("n" * 40, "x" * 29 + "y")
    assert len(a) == len(b) == 64
    assert a != b


def test_custom_tool_choice_and_allowed_tools() -> None:
    call = decode_request({"model": "m", "tools": [PATCH], "tool_choice": {"type": "custom", "name": "apply_patch"}})
    assert call.tool_choice == ToolChoice(mode="tool", name="apply_patch")
    call = decode_request({"model": "m", "tools": [EXEC, NAMESPACE], "tool_choice": {
        "type": "allowed_tools", "mode": "auto",
        "tools": [{"type": "function", "name": "close_agent", "namespace": "multi_agent_v1"}]}})
    assert [t.name for t in call.function_tools] == ["multi_agent_v1__close_agent"]


def test_additional_tools_item_adds_tools() -> None:
    call = decode_request({"model": "m", "tools": [EXEC], "input": [
        {"type": "additional_tools", "role": "developer", "tools": [PATCH, EXEC]},
        {"role": "user", "content": "hi"}]}, new_item_id=ids)
    assert [t.name for t in call.function_tools] == ["exec_command", "apply_patch"]
    assert items_to_canonical(call.input_items)[0].role == "user"


def test_codex_history_items_to_canonical() -> None:
    call = decode_request({"model": "m", "store": False, "include": ["reasoning.encrypted_content"],
                           "prompt_cache_key": "k", "client_metadata": {"a": "b"}, "text": {"verbosity": "low"},
                           "input": [
        {"type": "reasoning", "id": "rs_1", "summary": [], "content": None, "encrypted_content": "gAAAblob"},
        {"type": "custom_tool_call", "id": "ctc_1", "status": "completed", "call_id": "c1", "name": "apply_patch",
         "input": "*** Begin Patch\n*** End Patch\n"},
        {"type": "custom_tool_call_output", "call_id": "c1", "output": "Done"},
        {"type": "function_call", "id": "fc_1", "call_id": "c2", "name": "close_agent",
         "namespace": "multi_agent_v1", "arguments": "{}"},
        {"type": "function_call_output", "call_id": "c2", "output": "ok"},
        {"type": "web_search_call", "id": "ws_1", "status": "completed", "action": {"type": "search"}},
        {"type": "tool_search_call", "id": "ts_1", "call_id": "c3", "execution": "client", "arguments": {}},
        {"type": "tool_search_output", "id": "tso_1", "call_id": "c3", "tools": []},
    ]}, new_item_id=ids)
    assert items_to_canonical(call.input_items) == [
        Reasoning(encrypted="gAAAblob", id="rs_1"),
        FunctionCall("c1", "apply_patch", json.dumps({"input": "*** Begin Patch\n*** End Patch\n"}), id="ctc_1"),
        FunctionCallOutput("c1", [TextPart("Done")]),
        FunctionCall("c2", "multi_agent_v1__close_agent", "{}", id="fc_1"),
        FunctionCallOutput("c2", [TextPart("ok")]),
    ]


def _encode(tools: list[dict], name: str, arguments: str) -> tuple[list[dict], list[dict]]:
    enc = ResponsesStreamEncoder(new_item_id=ids)
    events = [enc.lifecycle("created", {"tools": tools, "store": False})]
    for event in [Start(), BlockStart(0, "tool_call", call_id="call_9", name=name),
                  ArgumentsDelta(0, arguments[:5]), ArgumentsDelta(0, arguments[5:]), BlockStop(0),
                  Finish("tool_calls")]:
        events += enc.feed(event)
    return events, enc.output


def test_a_custom_tool_call_goes_back_as_custom_tool_call() -> None:
    events, output = _encode([PATCH], "apply_patch", json.dumps({"input": "*** Begin Patch\n"}))
    assert output == [{"id": "ctc_1", "type": "custom_tool_call", "status": "completed", "call_id": "call_9",
                       "name": "apply_patch", "input": "*** Begin Patch\n"}]
    kinds = [e["type"] for e in events[1:]]
    assert kinds == ["response.output_item.added", "response.custom_tool_call_input.delta",
                     "response.custom_tool_call_input.done", "response.output_item.done"]
    assert events[1]["item"]["type"] == "custom_tool_call"


def test_a_namespaced_call_names_function_and_namespace_apart() -> None:
    _, output = _encode([NAMESPACE], "multi_agent_v1__close_agent", '{"target": "a"}')
    assert output[0]["type"] == "function_call"
    assert (output[0]["name"], output[0]["namespace"]) == ("close_agent", "multi_agent_v1")
    assert items_to_canonical(output)[0].name == "multi_agent_v1__close_agent"


def test_items_to_output_with_tool_kinds() -> None:
    out = items_to_output([FunctionCall("c", "apply_patch", '{"input": "x"}', id="ctc_2")], ids,
                          tool_kinds([PATCH]))
    assert out[0]["type"] == "custom_tool_call" and out[0]["input"] == "x"


def test_signed_reasoning_round_trips_without_content_when_not_stored() -> None:
    from switchyard.core.events import ReasoningDelta, SignatureDelta

    enc = ResponsesStreamEncoder(new_item_id=ids)
    enc.lifecycle("created", {"tools": [], "store": False})
    for event in [Start(), BlockStart(0, "reasoning"), ReasoningDelta(0, "think"), SignatureDelta(0, "SIG"),
                  BlockStop(0), Finish("stop")]:
        enc.feed(event)
    item = dict(enc.output[0])
    item.pop("content")  # what Codex sends back
    assert items_to_canonical([item]) == [Reasoning(text="think", signature="SIG", id="rs_1")]


@pytest.mark.parametrize(("signature", "encrypted", "text"), [
    ("SIG", None, "thought"), ("SIG", "blob", "thought ✓"), ("SIG", None, None), (None, "blob", "ignored")])
def test_opaque_text_packing(signature: str | None, encrypted: str | None, text: str | None) -> None:
    packed = pack(signature, encrypted, text)
    assert unpack(packed) == (signature, encrypted)
    assert unpack_text(packed) == (signature, encrypted, text if signature else None)


ANTHROPIC_BODY = {"model": "m", "max_tokens": 100, "messages": [{"role": "user", "content": "hi"}]}
WEB_SEARCH = {"type": "web_search_20250305", "name": "web_search", "max_uses": 8}


def test_server_tools_reach_only_anthropic_upstreams() -> None:
    request = decode_messages({**ANTHROPIC_BODY, "tools": [
        {"name": "Read", "input_schema": {"type": "object"}}, WEB_SEARCH],
        "tool_choice": {"type": "tool", "name": "web_search"}})
    assert [t.name for t in request.tools] == ["Read"]
    assert request.tool_choice == ToolChoice(mode="auto")
    body = encode_anthropic(request, model="up")
    assert body["tools"][1] == WEB_SEARCH
    assert body["tool_choice"] == {"type": "tool", "name": "web_search"}


def test_server_tool_history_and_tool_references() -> None:
    request = decode_messages({**ANTHROPIC_BODY, "messages": [
        {"role": "user", "content": "search"},
        {"role": "assistant", "content": [
            {"type": "server_tool_use", "id": "srvtoolu_1", "name": "web_search", "input": {"query": "q"}},
            {"type": "web_search_tool_result", "tool_use_id": "srvtoolu_1", "content": []},
            {"type": "text", "text": "Found it."},
            {"type": "tool_use", "id": "toolu_1", "name": "ToolSearch", "input": {"query": "select:X"}}]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_1",
                                      "content": [{"type": "tool_reference", "tool_name": "X"}]}]}]})
    assert [type(i).__name__ for i in request.items] == ["Message", "VendorItem", "VendorItem", "Message",
                                                         "FunctionCall", "FunctionCallOutput"]
    assert request.items[1].data == {"type": "server_tool_use", "id": "srvtoolu_1", "name": "web_search",
                                     "input": {"query": "q"}}
    assert request.items[3].text() == "Found it."
    assert request.items[5].text() == "Tool loaded: X"
    # back to Anthropic, the server tool's blocks stand where they were
    turns = encode_anthropic(request, model="claude")["messages"]
    assert [b["type"] for b in turns[1]["content"]] == ["server_tool_use", "web_search_tool_result", "text",
                                                       "tool_use"]
