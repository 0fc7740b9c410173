"""decode_request: a Responses create body to a ResponsesCall."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from switchyard.codecs.openai_responses import McpToolConfig, ResponsesCall, decode_request, strict_compatible
from switchyard.core.errors import SwitchyardError
from switchyard.core.request import ReasoningConfig, ResponseFormat, Tool, ToolChoice

STRICT_SCHEMA = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"],
                 "additionalProperties": False}
LOOSE_SCHEMA = {"type": "object", "properties": {"city": {"type": "string"}}}
MCP = {"type": "mcp", "server_label": "docs", "server_url": "https://mcp.example.com/sse"}


def ids():
    counter = itertools.count(1)
    return lambda prefix: f"{prefix}{next(counter)}"


def decode(**body: Any) -> ResponsesCall:
    return decode_request({"model": "m", **body}, new_item_id=ids())


def test_minimal_defaults():
    call = decode()
    assert call.model == "m"
    assert call.input_items == []
    assert call.store is True and call.background is False and call.stream is False
    assert call.parallel_tool_calls is True
    assert call.tool_choice is None and call.tool_choice_wire == "auto"
    assert call.text_wire == {"format": {"type": "text"}, "verbosity": "medium"}
    assert call.reasoning is None and call.reasoning_wire == {"effort": None, "summary": None}
    assert call.truncation == "disabled"
    assert call.metadata == {} and call.include == []


def test_string_input_becomes_a_user_message_with_an_id():
    call = decode(input="hi")
    assert call.input_items == [{"id": "msg_1", "type": "message", "role": "user",
                                 "content": [{"type": "input_text", "text": "hi"}], "status": "completed"}]


INPUT_CASES = [
    pytest.param(
        {"role": "developer", "content": "be brief"},
        {"id": "msg_1", "type": "message", "role": "developer", "status": "completed",
         "content": [{"type": "input_text", "text": "be brief"}]},
        id="easy-message-without-type",
    ),
    pytest.param(
        {"type": "message", "role": "user", "id": "msg_given", "content": [
            {"type": "input_text", "text": "look"},
            {"type": "input_image", "image_url": "https://x.test/a.png"},
            {"type": "input_image", "file_id": "file-1", "detail": "high"},
            {"type": "input_file", "file_id": "file-2"},
            {"type": "input_file", "file_data": "data:application/pdf;base64,QUJD", "filename": "a.pdf"},
            {"type": "input_file", "file_url": "https://x.test/a.pdf"},
        ]},
        {"id": "msg_given", "type": "message", "role": "user", "status": "completed", "content": [
            {"type": "input_text", "text": "look"},
            {"type": "input_image", "image_url": "https://x.test/a.png", "detail": "auto"},
            {"type": "input_image", "file_id": "file-1", "detail": "high"},
            {"type": "input_file", "file_id": "file-2"},
            {"type": "input_file", "file_data": "data:application/pdf;base64,QUJD", "filename": "a.pdf"},
            {"type": "input_file", "file_url": "https://x.test/a.pdf"},
        ]},
        id="user-parts",
    ),
    pytest.param(
        {"role": "assistant", "content": "earlier answer"},
        {"id": "msg_1", "type": "message", "role": "assistant", "status": "completed",
         "content": [{"type": "output_text", "text": "earlier answer", "annotations": [], "logprobs": []}]},
        id="assistant-string",
    ),
    pytest.param(
        {"type": "message", "role": "assistant", "id": "msg_o", "status": "completed",
         "content": [{"type": "output_text", "text": "hi", "annotations": []}, {"type": "refusal", "refusal": "no"}]},
        {"id": "msg_o", "type": "message", "role": "assistant", "status": "completed",
         "content": [{"type": "output_text", "text": "hi", "annotations": [], "logprobs": []},
                     {"type": "refusal", "refusal": "no"}]},
        id="output-message-given-back",
    ),
    pytest.param(
        {"type": "function_call", "call_id": "call_1", "name": "f", "arguments": "{}"},
        {"id": "fc_1", "type": "function_call", "call_id": "call_1", "name": "f", "arguments": "{}",
         "status": "completed"},
        id="function-call",
    ),
    pytest.param(
        {"type": "function_call_output", "call_id": "call_1", "output": "42"},
        {"id": "fco_1", "type": "function_call_output", "call_id": "call_1", "output": "42", "status": "completed"},
        id="function-call-output-string",
    ),
    pytest.param(
        {"type": "function_call_output", "call_id": "call_1", "output": [{"type": "input_text", "text": "42"}]},
        {"id": "fco_1", "type": "function_call_output", "call_id": "call_1",
         "output": [{"type": "input_text", "text": "42"}], "status": "completed"},
        id="function-call-output-parts",
    ),
    pytest.param(
        {"type": "reasoning", "id": "rs_9", "summary": [{"type": "summary_text", "text": "s"}],
         "content": [{"type": "reasoning_text", "text": "t"}], "encrypted_content": "sig:abc"},
        {"type": "reasoning", "id": "rs_9", "summary": [{"type": "summary_text", "text": "s"}],
         "content": [{"type": "reasoning_text", "text": "t"}], "encrypted_content": "sig:abc"},
        id="reasoning",
    ),
    pytest.param({"type": "item_reference", "id": "msg_x"}, {"type": "item_reference", "id": "msg_x"},
                 id="item-reference"),
    pytest.param({"id": "msg_x"}, {"type": "item_reference", "id": "msg_x"}, id="item-reference-without-type"),
    pytest.param(
        {"type": "mcp_approval_response", "approval_request_id": "mcpr_1", "approve": True},
        {"id": "mcpa_1", "type": "mcp_approval_response", "approval_request_id": "mcpr_1", "approve": True,
         "reason": None},
        id="mcp-approval-response",
    ),
    pytest.param(
        {"type": "mcp_call", "id": "mcp_1", "server_label": "docs", "name": "search", "arguments": "{}",
         "output": "found"},
        {"type": "mcp_call", "id": "mcp_1", "server_label": "docs", "name": "search", "arguments": "{}",
         "output": "found"},
        id="mcp-call-given-back",
    ),
    pytest.param(
        {"type": "mcp_list_tools", "id": "mcpl_1", "server_label": "docs",
         "tools": [{"name": "search", "input_schema": {}}]},
        {"type": "mcp_list_tools", "id": "mcpl_1", "server_label": "docs",
         "tools": [{"name": "search", "input_schema": {}}]},
        id="mcp-list-tools-given-back",
    ),
    pytest.param(
        {"type": "mcp_approval_request", "id": "mcpr_1", "server_label": "docs", "name": "search",
         "arguments": "{}"},
        {"type": "mcp_approval_request", "id": "mcpr_1", "server_label": "docs", "name": "search",
         "arguments": "{}"},
        id="mcp-approval-request-given-back",
    ),
]


@pytest.mark.parametrize(("item", "expected"), INPUT_CASES)
def test_input_items_are_normalised(item, expected):
    assert decode(input=[item]).input_items == [expected]


def test_settings():
    call = decode(
        instructions="sys", previous_response_id="resp_1", store=False, stream=True,
        stream_options={"include_obfuscation": False}, parallel_tool_calls=False, max_tool_calls=3,
        max_output_tokens=16, temperature=0.5, top_p=0.9, top_logprobs=2, truncation="auto",
        include=["reasoning.encrypted_content"], metadata={"k": "v"}, user="u", safety_identifier="s",
        prompt_cache_key="p", service_tier="flex",
        text={"format": {"type": "json_schema", "name": "out", "schema": STRICT_SCHEMA, "strict": True},
              "verbosity": "low"},
        reasoning={"effort": "high", "summary": "auto"},
    )
    assert (call.instructions, call.previous_response_id, call.store, call.stream) == ("sys", "resp_1", False, True)
    assert call.stream_include_obfuscation is False
    assert (call.parallel_tool_calls, call.max_tool_calls, call.max_output_tokens) == (False, 3, 16)
    assert (call.temperature, call.top_p, call.top_logprobs, call.truncation) == (0.5, 0.9, 2, "auto")
    assert call.include == ["reasoning.encrypted_content"]
    assert (call.metadata, call.user, call.safety_identifier) == ({"k": "v"}, "u", "s")
    assert (call.prompt_cache_key, call.service_tier) == ("p", "flex")
    assert call.text_format == ResponseFormat("json_schema", STRICT_SCHEMA, "out", True, None)
    assert call.text_wire == {"format": {"type": "json_schema", "name": "out", "schema": STRICT_SCHEMA,
                                         "strict": True}, "verbosity": "low"}
    assert call.reasoning == ReasoningConfig(enabled=True, effort="high", summary="auto")
    assert call.reasoning_wire == {"effort": "high", "summary": "auto"}


@pytest.mark.parametrize(("raw", "expected"), [("conv_1", "conv_1"), ({"id": "conv_2"}, "conv_2")])
def test_conversation(raw, expected):
    assert decode(conversation=raw).conversation == expected


def test_reasoning_none_effort_disables_and_generate_summary_is_an_alias():
    call = decode(reasoning={"effort": "none", "generate_summary": "concise"})
    assert call.reasoning == ReasoningConfig(enabled=False, effort="none", summary="concise")


@pytest.mark.parametrize(("tool", "strict"), [
    ({"type": "function", "name": "f", "parameters": STRICT_SCHEMA}, True),
    ({"type": "function", "name": "f", "parameters": LOOSE_SCHEMA}, False),
    ({"type": "function", "name": "f", "parameters": STRICT_SCHEMA, "strict": False}, False),
    ({"type": "function", "name": "f", "parameters": LOOSE_SCHEMA, "strict": True}, True),
    ({"type": "function", "name": "f"}, False),
])
def test_function_tool_strict_default_follows_the_schema(tool, strict):
    call = decode(tools=[tool])
    assert call.function_tools[0].strict is strict
    assert call.tools_wire[0]["strict"] is strict


def test_function_tool_echo_and_canonical():
    call = decode(tools=[{"type": "function", "name": "get", "description": "d", "parameters": LOOSE_SCHEMA}])
    assert call.function_tools == [Tool("get", "d", LOOSE_SCHEMA, False)]
    assert call.tools_wire == [{"type": "function", "name": "get", "description": "d", "parameters": LOOSE_SCHEMA,
                                "strict": False}]


def test_strict_compatible_looks_into_nested_schemas():
    nested = {"type": "object", "properties": {"a": LOOSE_SCHEMA}, "required": ["a"], "additionalProperties": False}
    assert not strict_compatible(nested)
    deep = {"type": "object", "properties": {"a": {"type": "array", "items": STRICT_SCHEMA}}, "required": ["a"],
            "additionalProperties": False, "$defs": {"x": STRICT_SCHEMA}}
    assert strict_compatible(deep)


def test_mcp_tool_config_and_echo_without_secrets():
    tool = {**MCP, "headers": {"X-Key": "secret"}, "authorization": "tok",
            "allowed_tools": {"tool_names": ["search"]},
            "require_approval": {"never": {"tool_names": ["search"]}}, "server_description": "Docs"}
    call = decode(tools=[tool])
    assert call.mcp_tools == [McpToolConfig("docs", "https://mcp.example.com/sse",
                                            {"X-Key": "secret", "Authorization": "Bearer tok"}, ["search"],
                                            {"never": {"tool_names": ["search"]}}, "Docs")]
    echoed = call.tools_wire[0]
    assert echoed["headers"] is None and "authorization" not in echoed
    assert echoed["require_approval"] == {"never": {"tool_names": ["search"]}}
    assert "secret" not in repr(call.tools_wire)


def test_mcp_defaults():
    config = decode(tools=[MCP]).mcp_tools[0]
    assert (config.headers, config.allowed_tools, config.require_approval) == ({}, None, "always")
    assert decode(tools=[{**MCP, "allowed_tools": ["a", "b"]}]).mcp_tools[0].allowed_tools == ["a", "b"]
    assert decode(tools=[{**MCP, "require_approval": "never"}]).mcp_tools[0].require_approval == "never"


FN = {"type": "function", "name": "f", "parameters": STRICT_SCHEMA}
FN2 = {"type": "function", "name": "g", "parameters": STRICT_SCHEMA}


@pytest.mark.parametrize(("choice", "canonical", "wire"), [
    ("auto", ToolChoice("auto"), "auto"),
    ("none", ToolChoice("none"), "none"),
    ("required", ToolChoice("required"), "required"),
    ({"type": "function", "name": "f"}, ToolChoice("tool", "f"), {"type": "function", "name": "f"}),
    ({"type": "mcp", "server_label": "docs", "name": "search"}, ToolChoice("tool", "search"),
     {"type": "mcp", "server_label": "docs", "name": "search"}),
    ({"type": "mcp", "server_label": "docs"}, ToolChoice("required"),
     {"type": "mcp", "server_label": "docs", "name": None}),
])
def test_tool_choice(choice, canonical, wire):
    call = decode(tools=[FN, MCP], tool_choice=choice)
    assert call.tool_choice == canonical
    assert call.tool_choice_wire == wire


def test_allowed_tools_narrows_the_tools_but_echoes_all():
    choice = {"type": "allowed_tools", "mode": "required", "tools": [{"type": "function", "name": "g"}]}
    call = decode(tools=[FN, FN2, MCP], tool_choice=choice)
    assert [t.name for t in call.function_tools] == ["g"]
    assert call.mcp_tools == []
    assert len(call.tools_wire) == 3
    assert call.tool_choice == ToolChoice("required")
    assert call.tool_choice_wire == choice


ERROR_CASES = [
    ({}, "model"),
    ({"model": 3}, "model"),
    ({"input": 3}, "input"),
    ({"input": [3]}, "input[0]"),
    ({"input": [{"content": "x"}]}, "input[0].type"),
    ({"input": [{"role": "robot", "content": "x"}]}, "input[0].role"),
    ({"input": [{"role": "user"}]}, "input[0].content"),
    ({"input": [{"role": "user", "content": 5}]}, "input[0].content"),
    ({"input": [{"role": "user", "content": [{"type": "output_text", "text": "x"}]}]}, "input[0].content[0].type"),
    ({"input": [{"role": "user", "content": [{"type": "input_text"}]}]}, "input[0].content[0].text"),
    ({"input": [{"role": "user", "content": [{"type": "input_image"}]}]}, "input[0].content[0].image_url"),
    ({"input": [{"role": "user", "content": [{"type": "input_image", "image_url": "ftp://x"}]}]},
     "input[0].content[0].image_url"),
    ({"input": [{"role": "user", "content": [{"type": "input_image", "image_url": "data:text/plain;base64,QQ=="}]}]},
     "input[0].content[0].image_url"),
    ({"input": [{"role": "user", "content": [{"type": "input_image", "image_url": "https://x", "detail": "max"}]}]},
     "input[0].content[0].detail"),
    ({"input": [{"role": "user", "content": [{"type": "input_file"}]}]}, "input[0].content[0].file_id"),
    ({"input": [{"role": "user", "status": "done", "content": "x"}]}, "input[0].status"),
    ({"input": [{"type": "function_call", "name": "f", "arguments": "{}"}]}, "input[0].call_id"),
    ({"input": [{"type": "function_call", "call_id": "c", "arguments": "{}"}]}, "input[0].name"),
    ({"input": [{"type": "function_call", "call_id": "c", "name": "f"}]}, "input[0].arguments"),
    ({"input": [{"type": "function_call_output", "call_id": "c"}]}, "input[0].output"),
    ({"input": [{"type": "function_call_output", "call_id": "c", "output": 1}]}, "input[0].output"),
    ({"input": [{"type": "function_call_output", "output": "x"}]}, "input[0].call_id"),
    ({"input": [{"type": "reasoning", "id": "rs_1"}]}, "input[0].summary"),
    ({"input": [{"type": "reasoning", "summary": [{"type": "reasoning_text", "text": "x"}]}]},
     "input[0].summary[0].type"),
    ({"input": [{"type": "mcp_approval_response", "approval_request_id": "r"}]}, "input[0].approve"),
    ({"input": [{"type": "mcp_approval_response", "approve": True}]}, "input[0].approval_request_id"),
    ({"input": [{"type": "mcp_call", "server_label": "s", "name": "n", "arguments": "{}"}]}, "input[0].id"),
    ({"input": [{"type": "computer_call", "id": "cu_1"}]}, "input[0].type"),
    ({"input": [{"type": "custom_tool_call", "call_id": "c", "name": "n"}]}, "input[0].input"),
    ({"input": [{"type": "custom_tool_call_output", "call_id": "c"}]}, "input[0].output"),
    ({"input": [{"type": "additional_tools", "role": "user", "tools": []}]}, "input[0].role"),
    ({"input": [{"type": "additional_tools", "tools": [{"type": "hologram"}]}]}, "input[0].tools[0].type"),
    ({"input": [{"type": "bogus"}]}, "input[0].type"),
    ({"previous_response_id": "resp_1", "conversation": "conv_1"}, "conversation"),
    ({"conversation": 5}, "conversation"),
    ({"conversation": {}}, "conversation.id"),
    ({"prompt": {"id": "pmpt_1"}}, "prompt"),
    ({"background": True, "store": False}, "background"),
    ({"stream_options": {"include_obfuscation": False}}, "stream_options"),
    ({"stream": True, "stream_options": {"include_obfuscation": 1}}, "stream_options.include_obfuscation"),
    ({"tools": {}}, "tools"),
    ({"tools": [{"name": "f"}]}, "tools[0].type"),
    ({"tools": [{"type": "code_interpreter", "container": {"type": "manual"}}]}, "tools[0].container.type"),
    ({"tools": [{"type": "code_interpreter", "container": {"type": "auto", "file_ids": "f"}}]},
     "tools[0].container.file_ids"),
    ({"tools": [{"type": "file_search", "vector_store_ids": []}]}, "tools[0].vector_store_ids"),
    ({"tools": [{"type": "file_search", "vector_store_ids": ["vs_1"], "max_num_results": 99}]},
     "tools[0].max_num_results"),
    ({"tools": [{"type": "custom"}]}, "tools[0].name"),
    ({"tools": [{"type": "custom", "name": "c", "format": {"type": "grammar", "syntax": "ebnf",
                                                           "definition": "x"}}]}, "tools[0].format.syntax"),
    ({"tools": [{"type": "namespace", "name": "ns", "tools": [{"type": "mcp"}]}]}, "tools[0].tools[0].type"),
    ({"tools": [{"type": "namespace", "name": "ns"}]}, "tools[0].tools"),
    ({"tools": [{"type": "code_interpreter"}]}, "tools[0].container"),
    ({"tools": [{"type": "code_interpreter", "container": "c"}, {"type": "code_interpreter", "container": "c"}]},
     "tools[1].type"),
    ({"tools": [{"type": "hologram"}]}, "tools[0].type"),
    ({"tools": [{"type": "function"}]}, "tools[0].name"),
    ({"tools": [{"type": "function", "name": "bad name"}]}, "tools[0].name"),
    ({"tools": [{"type": "function", "name": "f", "parameters": []}]}, "tools[0].parameters"),
    ({"tools": [{"type": "function", "name": "f", "strict": "yes"}]}, "tools[0].strict"),
    ({"tools": [FN, FN]}, "tools[1].name"),
    ({"tools": [{"type": "mcp", "server_url": "https://x"}]}, "tools[0].server_label"),
    ({"tools": [{"type": "mcp", "server_label": "s"}]}, "tools[0].server_url"),
    ({"tools": [{"type": "mcp", "server_label": "s", "connector_id": "connector_gmail"}]}, "tools[0].connector_id"),
    ({"tools": [{"type": "mcp", "server_label": "s", "server_url": "file:///x"}]}, "tools[0].server_url"),
    ({"tools": [{**MCP, "headers": {"a": 1}}]}, "tools[0].headers.a"),
    ({"tools": [{**MCP, "require_approval": "sometimes"}]}, "tools[0].require_approval"),
    ({"tools": [{**MCP, "require_approval": {"maybe": {}}}]}, "tools[0].require_approval.maybe"),
    ({"tools": [{**MCP, "allowed_tools": [1]}]}, "tools[0].allowed_tools[0]"),
    ({"tools": [{**MCP, "allowed_tools": {"read_only": True}}]}, "tools[0].allowed_tools.read_only"),
    ({"tools": [MCP, MCP]}, "tools[1].server_label"),
    ({"tool_choice": "sometimes"}, "tool_choice"),
    ({"tool_choice": {"type": "function", "name": "nope"}}, "tool_choice.name"),
    ({"tool_choice": {"type": "function"}}, "tool_choice.name"),
    ({"tool_choice": {"type": "mcp", "server_label": "nope"}}, "tool_choice.server_label"),
    ({"tool_choice": {"type": "file_search"}}, "tool_choice.type"),
    ({"tool_choice": {"type": "custom", "name": "x"}}, "tool_choice.name"),
    ({"tool_choice": {"type": "allowed_tools", "mode": "none", "tools": []}}, "tool_choice.mode"),
    ({"tool_choice": {"type": "allowed_tools", "mode": "auto", "tools": [{"type": "image_generation"}]}},
     "tool_choice.tools[0].type"),
    ({"text": {"format": {"type": "xml"}}}, "text.format.type"),
    ({"text": {"format": {"type": "json_schema", "schema": {}}}}, "text.format.name"),
    ({"text": {"format": {"type": "json_schema", "name": "a b", "schema": {}}}}, "text.format.name"),
    ({"text": {"format": {"type": "json_schema", "name": "n"}}}, "text.format.schema"),
    ({"text": {"verbosity": "loud"}}, "text.verbosity"),
    ({"reasoning": {"effort": "extreme"}}, "reasoning.effort"),
    ({"reasoning": {"summary": "long"}}, "reasoning.summary"),
    ({"reasoning": "high"}, "reasoning"),
    ({"max_output_tokens": 15}, "max_output_tokens"),
    ({"max_output_tokens": "many"}, "max_output_tokens"),
    ({"max_tool_calls": 0}, "max_tool_calls"),
    ({"temperature": 2.5}, "temperature"),
    ({"top_p": -0.1}, "top_p"),
    ({"top_logprobs": 21}, "top_logprobs"),
    ({"truncation": "sometimes"}, "truncation"),
    ({"include": ["everything"]}, "include[0]"),
    ({"include": "reasoning.encrypted_content"}, "include"),
    ({"metadata": {"k": 1}}, "metadata.k"),
    ({"metadata": {f"k{i}": "v" for i in range(17)}}, "metadata"),
    ({"metadata": {"k": "v" * 513}}, "metadata.k"),
    ({"safety_identifier": "x" * 65}, "safety_identifier"),
    ({"service_tier": "gold"}, "service_tier"),
    ({"store": "yes"}, "store"),
    ({"parallel_tool_calls": 1}, "parallel_tool_calls"),
]


@pytest.mark.parametrize(("body", "param"), ERROR_CASES)
def test_errors_name_the_field(body, param):
    body = {"model": "m", **body} if "model" not in body and body else body
    with pytest.raises(SwitchyardError) as info:
        decode_request(body, new_item_id=ids())
    assert info.value.status == 400
    assert info.value.param == param, info.value.message


def test_body_must_be_an_object():
    with pytest.raises(SwitchyardError) as info:
        decode_request([])
    assert info.value.param == "body"


def test_default_ids_are_vendor_shaped_and_distinct():
    call = decode_request({"model": "m", "input": [{"role": "user", "content": "a"},
                                                   {"role": "user", "content": "b"}]})
    first, second = (item["id"] for item in call.input_items)
    assert first.startswith("msg_") and second.startswith("msg_") and first != second
