"""decode_request / decode_stream_options (client side) and encode_request (upstream)."""

from __future__ import annotations

import copy
import logging
from typing import Any

import pytest

from switchyard.codecs.openai_chat import decode_request, decode_stream_options, encode_request
from switchyard.core.errors import ErrorKind, SwitchyardError
from switchyard.core.items import (
    FilePart,
    FunctionCall,
    FunctionCallOutput,
    ImagePart,
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

WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Weather for a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
        "strict": True,
    },
}


def body(**fields: Any) -> dict[str, Any]:
    return {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}], **fields}


def test_minimal_request() -> None:
    req = decode_request(body())
    assert req == Request(model="gpt-4o", items=[text_message("user", "hi")])


@pytest.mark.parametrize(
    ("message", "items"),
    [
        ({"role": "system", "content": "be brief"}, [text_message("system", "be brief")]),
        ({"role": "developer", "content": [{"type": "text", "text": "a"}, {"type": "text",
                                                                          "text": "b"}]},
         [Message("developer", [TextPart("a"), TextPart("b")])]),
        ({"role": "user", "content": "x", "name": "bob"},
         [Message("user", [TextPart("x")], name="bob")]),
        ({"role": "user", "content": [{"type": "image_url", "image_url": {
            "url": "https://e.com/a.png", "detail": "low"}}]},
         [Message("user", [ImagePart(url="https://e.com/a.png", detail="low")])]),
        ({"role": "user", "content": [{"type": "image_url", "image_url": {
            "url": "data:image/png;base64,iVBORw0K"}}]},
         [Message("user", [ImagePart(data="iVBORw0K", media_type="image/png")])]),
        ({"role": "user", "content": [{"type": "file", "file": {
            "file_data": "data:application/pdf;base64,JVBER", "filename": "a.pdf"}}]},
         [Message("user", [FilePart(data="JVBER", media_type="application/pdf",
                                    filename="a.pdf")])]),
        ({"role": "user", "content": [{"type": "file", "file": {"file_id": "file-1"}}]},
         [Message("user", [FilePart(file_id="file-1")])]),
        ({"role": "assistant", "content": "sure"}, [text_message("assistant", "sure")]),
        ({"role": "assistant", "content": None, "refusal": "no"},
         [Message("assistant", [RefusalPart("no")])]),
        ({"role": "assistant", "content": [{"type": "refusal", "refusal": "no"}]},
         [Message("assistant", [RefusalPart("no")])]),
        ({"role": "assistant", "content": None, "tool_calls": [
            {"id": "call_1", "type": "function",
             "function": {"name": "f", "arguments": "{\"a\":1}"}},
            {"id": "call_2", "type": "function", "function": {"name": "g", "arguments": "{}"}}]},
         [FunctionCall("call_1", "f", "{\"a\":1}"), FunctionCall("call_2", "g", "{}")]),
        ({"role": "assistant", "content": "let me", "reasoning_content": "think",
          "tool_calls": [{"id": "c", "type": "function",
                          "function": {"name": "f", "arguments": "{}"}}]},
         [Reasoning(text="think"), text_message("assistant", "let me"),
          FunctionCall("c", "f", "{}")]),
        ({"role": "assistant", "content": "ok", "reasoning": "hmm"},
         [Reasoning(text="hmm"), text_message("assistant", "ok")]),
        ({"role": "assistant", "content": "", "tool_calls": [
            {"id": "c", "type": "function", "function": {"name": "f", "arguments": ""}}]},
         [FunctionCall("c", "f", "")]),
        ({"role": "tool", "tool_call_id": "call_1", "content": "sunny"},
         [FunctionCallOutput("call_1", [TextPart("sunny")])]),
        ({"role": "tool", "tool_call_id": "call_1", "content": [{"type": "text", "text": "a"}]},
         [FunctionCallOutput("call_1", [TextPart("a")])]),
    ],
)
def test_messages(message: dict[str, Any], items: list[Any]) -> None:
    assert decode_request(body(messages=[message])).items == items


def test_legacy_function_messages_pair_by_name() -> None:
    req = decode_request(body(messages=[
        {"role": "user", "content": "hi"},
        {"role": "assistant", "content": None,
         "function_call": {"name": "f", "arguments": "{}"}},
        {"role": "function", "name": "f", "content": "42"},
    ]))
    call, output = req.items[1], req.items[2]
    assert isinstance(call, FunctionCall) and isinstance(output, FunctionCallOutput)
    assert call.name == "f" and output.call_id == call.call_id and output.text() == "42"


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"tools": [WEATHER]}, {"tools": [Tool("get_weather", "Weather for a city",
                                               WEATHER["function"]["parameters"], True)]}),
        ({"tools": [{"type": "function", "function": {"name": "f"}}]},
         {"tools": [Tool("f")]}),
        ({"tools": [WEATHER], "tool_choice": "required", "parallel_tool_calls": False},
         {"tool_choice": ToolChoice("required"), "parallel_tool_calls": False}),
        ({"tools": [WEATHER], "tool_choice": {"type": "function",
                                              "function": {"name": "get_weather"}}},
         {"tool_choice": ToolChoice("tool", "get_weather")}),
        ({"tool_choice": "none"}, {"tool_choice": ToolChoice("none")}),
        ({"functions": [{"name": "f"}], "function_call": {"name": "f"}},
         {"tools": [Tool("f")], "tool_choice": ToolChoice("tool", "f")}),
        ({"response_format": {"type": "json_object"}},
         {"response_format": ResponseFormat("json_object")}),
        ({"response_format": {"type": "json_schema", "json_schema": {
            "name": "r", "schema": {"type": "object"}, "strict": True}}},
         {"response_format": ResponseFormat("json_schema", {"type": "object"}, "r", True)}),
        ({"max_tokens": 10}, {"max_output_tokens": 10}),
        ({"max_completion_tokens": 20, "max_tokens": 10}, {"max_output_tokens": 20}),
        ({"stop": "\n"}, {"stop": ["\n"]}),
        ({"stop": ["a", "b"]}, {"stop": ["a", "b"]}),
        ({"n": 3, "seed": 7}, {"n": 3, "seed": 7}),
        ({"logprobs": True, "top_logprobs": 5}, {"logprobs": True, "top_logprobs": 5}),
        ({"temperature": 0, "top_p": 0.5}, {"temperature": 0, "top_p": 0.5}),
        ({"presence_penalty": -2, "frequency_penalty": 1.5},
         {"presence_penalty": -2, "frequency_penalty": 1.5}),
        ({"reasoning_effort": "high"}, {"reasoning": ReasoningConfig(effort="high")}),
        ({"reasoning_effort": "none"},
         {"reasoning": ReasoningConfig(enabled=False, effort="none")}),
        ({"user": "u1"}, {"user": "u1"}),
        ({"user": "u1", "safety_identifier": "s1"}, {"user": "s1"}),
        ({"metadata": {"k": "v"}}, {"metadata": {"k": "v"}}),
        ({"stream": True}, {"stream": True}),
    ],
)
def test_parameters(fields: dict[str, Any], expected: dict[str, Any]) -> None:
    req = decode_request(body(**fields))
    for key, value in expected.items():
        assert getattr(req, key) == value, key


@pytest.mark.parametrize(
    ("fields", "param"),
    [
        ({"model": 3}, "model"),
        ({"model": None}, "model"),
        ({"messages": "hi"}, "messages"),
        ({"messages": []}, "messages"),
        ({"messages": [{"role": "robot", "content": "x"}]}, "messages[0].role"),
        ({"messages": [{"content": "x"}]}, "messages[0].role"),
        ({"messages": [{"role": "user"}]}, "messages[0].content"),
        ({"messages": [{"role": "user", "content": 5}]}, "messages[0].content"),
        ({"messages": [{"role": "user", "content": [{"type": "video"}]}]},
         "messages[0].content[0].type"),
        ({"messages": [{"role": "user", "content": [{"type": "text", "text": 1}]}]},
         "messages[0].content[0].text"),
        ({"messages": [{"role": "user", "content": [{"type": "input_audio", "input_audio": {
            "data": "x", "format": "wav"}}]}]}, "messages[0].content[0].type"),
        ({"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {
            "url": "data:text/plain;base64,aGk="}}]}]}, "messages[0].content[0].image_url.url"),
        ({"messages": [{"role": "system", "content": [{"type": "image_url", "image_url": {
            "url": "https://e.com/a.png"}}]}]}, "messages[0].content[0].type"),
        ({"messages": [{"role": "tool", "content": "x"}]}, "messages[0].tool_call_id"),
        ({"messages": [{"role": "assistant"}]}, "messages[0].content"),
        ({"messages": [{"role": "assistant", "tool_calls": [{"id": "c", "type": "function",
                                                             "function": {"arguments": "{}"}}]}]},
         "messages[0].tool_calls[0].function.name"),
        ({"messages": ["hi"]}, "messages[0]"),
        ({"tools": [{"type": "web_search"}]}, "tools[0].type"),
        ({"tools": [{"type": "function", "function": {"name": "a b"}}]},
         "tools[0].function.name"),
        ({"tools": [WEATHER, WEATHER]}, "tools[1].function.name"),
        ({"tools": [{"type": "function", "function": {"name": "f", "parameters": []}}]},
         "tools[0].function.parameters"),
        ({"tools": [WEATHER], "tool_choice": {"type": "function", "function": {"name": "x"}}},
         "tool_choice.function.name"),
        ({"tool_choice": "sometimes"}, "tool_choice"),
        ({"response_format": {"type": "yaml"}}, "response_format.type"),
        ({"response_format": {"type": "json_schema", "json_schema": {"schema": {}}}},
         "response_format.json_schema.name"),
        ({"max_tokens": 0}, "max_tokens"),
        ({"max_completion_tokens": "10"}, "max_completion_tokens"),
        ({"max_tokens": True}, "max_tokens"),
        ({"stop": ["a", 1]}, "stop[1]"),
        ({"stop": ["a", "b", "c", "d", "e"]}, "stop"),
        ({"n": 0}, "n"),
        ({"top_logprobs": 3}, "top_logprobs"),
        ({"logprobs": True, "top_logprobs": 21}, "top_logprobs"),
        ({"logprobs": "yes"}, "logprobs"),
        ({"temperature": 2.5}, "temperature"),
        ({"temperature": "hot"}, "temperature"),
        ({"top_p": -0.1}, "top_p"),
        ({"presence_penalty": 3}, "presence_penalty"),
        ({"reasoning_effort": "extreme"}, "reasoning_effort"),
        ({"user": 5}, "user"),
        ({"metadata": {"k": 1}}, "metadata.k"),
        ({"stream": "yes"}, "stream"),
        ({"stream_options": {"include_usage": True}}, "stream_options"),
        ({"stream": True, "stream_options": {"include_usage": 1}},
         "stream_options.include_usage"),
    ],
)
def test_errors_name_the_field(fields: dict[str, Any], param: str) -> None:
    with pytest.raises(SwitchyardError) as info:
        decode_request(body(**fields))
    assert info.value.kind is ErrorKind.INVALID_REQUEST
    assert info.value.param == param
    assert info.value.status == 400


def test_body_must_be_an_object() -> None:
    with pytest.raises(SwitchyardError):
        decode_request([1, 2])


def test_unknown_fields_are_logged_not_rejected(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG, logger="switchyard.codecs.openai_chat.request_in"):
        decode_request(body(frobnicate=1, store=True))
    assert "frobnicate" in caplog.text


@pytest.mark.parametrize(
    ("fields", "include"),
    [
        ({}, False),
        ({"stream": True}, False),
        ({"stream": True, "stream_options": {"include_usage": True}}, True),
        ({"stream": True, "stream_options": {"include_usage": False}}, False),
    ],
)
def test_decode_stream_options(fields: dict[str, Any], include: bool) -> None:
    assert decode_stream_options(body(**fields)) is include


# --- upstream side -------------------------------------------------------------------------


def test_encode_request_omits_unset_fields() -> None:
    out = encode_request(Request(model="alias", items=[text_message("user", "hi")]),
                         model="gpt-4o-mini")
    assert out == {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}


def test_encode_request_parameters() -> None:
    req = Request(
        model="alias", items=[text_message("user", "hi")],
        tools=[Tool("f", "d", {"type": "object"}, strict=True), Tool("g")],
        tool_choice=ToolChoice("tool", "f"), parallel_tool_calls=False, temperature=0.2,
        top_p=0.9, max_output_tokens=100, stop=["x"], seed=1, n=2, logprobs=True,
        top_logprobs=3, presence_penalty=0.1, frequency_penalty=0.2,
        response_format=ResponseFormat("json_schema", {"type": "object"}, "out", strict=True),
        reasoning=ReasoningConfig(effort="low"), user="u", metadata={"raw_prompt": True},
        stream=True,
    )
    assert encode_request(req, model="up") == {
        "model": "up",
        "messages": [{"role": "user", "content": "hi"}],
        "tools": [
            {"type": "function", "function": {"name": "f", "description": "d",
                                              "parameters": {"type": "object"},
                                              "strict": True}},
            {"type": "function", "function": {"name": "g", "parameters": {
                "type": "object", "properties": {}}}},
        ],
        "tool_choice": {"type": "function", "function": {"name": "f"}},
        "parallel_tool_calls": False, "temperature": 0.2, "top_p": 0.9, "max_tokens": 100,
        "stop": ["x"], "seed": 1, "n": 2, "logprobs": True, "top_logprobs": 3,
        "presence_penalty": 0.1, "frequency_penalty": 0.2,
        "response_format": {"type": "json_schema", "json_schema": {
            "name": "out", "schema": {"type": "object"}, "strict": True}},
        "reasoning_effort": "low", "user": "u",
        "stream": True, "stream_options": {"include_usage": True},
    }


def test_encode_messages_merges_assistant_turns() -> None:
    items = [
        Message("developer", [TextPart("rules")]),
        text_message("user", "weather?"),
        Reasoning(text="need tool"),
        text_message("assistant", "checking"),
        FunctionCall("c1", "w", '{"city":"a"}'),
        FunctionCall("c2", "w", '{"city":"b"}'),
        FunctionCallOutput("c1", [TextPart("sunny")]),
        FunctionCallOutput("c2", [ImagePart(url="https://e.com/x.png")], is_error=True),
        Message("assistant", [RefusalPart("no")]),
        Message("user", [TextPart("look"), ImagePart(data="AAA", media_type="image/png",
                                                      detail="high"),
                         FilePart(data="JVB", media_type="application/pdf", filename="a.pdf")]),
    ]
    out = encode_request(Request(model="m", items=items), model="m")
    assert out["messages"] == [
        {"role": "system", "content": "rules"},
        {"role": "user", "content": "weather?"},
        {"role": "assistant", "content": "checking", "reasoning_content": "need tool",
         "tool_calls": [
             {"id": "c1", "type": "function", "function": {"name": "w",
                                                           "arguments": '{"city":"a"}'}},
             {"id": "c2", "type": "function", "function": {"name": "w",
                                                           "arguments": '{"city":"b"}'}},
         ]},
        {"role": "tool", "tool_call_id": "c1", "content": "sunny"},
        {"role": "tool", "tool_call_id": "c2", "content": "[image omitted]"},
        {"role": "assistant", "content": None, "refusal": "no"},
        {"role": "user", "content": [
            {"type": "text", "text": "look"},
            {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAA",
                                                "detail": "high"}},
            {"type": "file", "file": {"file_data": "data:application/pdf;base64,JVB",
                                      "filename": "a.pdf"}},
        ]},
    ]


def test_encode_messages_can_drop_reasoning() -> None:
    items = [text_message("user", "q"), Reasoning(text="t"), text_message("assistant", "a")]
    out = encode_request(Request(model="m", items=items), model="m", reasoning_content=False)
    assert out["messages"][1] == {"role": "assistant", "content": "a"}


def test_encode_file_by_url_is_refused() -> None:
    items = [Message("user", [FilePart(url="https://e.com/a.pdf")])]
    with pytest.raises(SwitchyardError) as info:
        encode_request(Request(model="m", items=items), model="m")
    assert info.value.param == "items[0].content[0]"


ROUND_TRIP = body(
    messages=[
        {"role": "system", "content": "be brief"},
        {"role": "user", "content": [
            {"type": "text", "text": "what is this"},
            {"type": "image_url", "image_url": {"url": "data:image/jpeg;base64,/9j/4AAQ"}},
        ]},
        {"role": "assistant", "content": "calling", "reasoning_content": "hmm",
         "tool_calls": [{"id": "call_a", "type": "function",
                         "function": {"name": "get_weather", "arguments": "{\"city\":\"x\"}"}}]},
        {"role": "tool", "tool_call_id": "call_a", "content": "sunny"},
        {"role": "assistant", "content": "It is sunny."},
        {"role": "user", "content": "thanks"},
    ],
    tools=[WEATHER],
    tool_choice="auto",
    parallel_tool_calls=True,
    response_format={"type": "json_schema", "json_schema": {"name": "r", "schema": {
        "type": "object"}, "strict": True}},
    max_tokens=50,
    stop=["END"],
    seed=3,
    n=2,
    logprobs=True,
    top_logprobs=2,
    temperature=0.7,
    top_p=0.9,
    presence_penalty=0.5,
    frequency_penalty=0.25,
    reasoning_effort="medium",
    user="u-1",
    stream=True,
    stream_options={"include_usage": True},
)


def test_round_trip_decode_then_encode() -> None:
    original = copy.deepcopy(ROUND_TRIP)
    out = encode_request(decode_request(ROUND_TRIP), model="gpt-4o")
    assert original == ROUND_TRIP, "decode_request must not mutate its input"
    assert out == original


def test_round_trip_through_canonical_is_stable() -> None:
    first = decode_request(ROUND_TRIP)
    assert decode_request(encode_request(first, model=first.model)) == first
