"""The Assistants codecs: bodies in (valid ones as stored, bad ones naming the field)
and stored messages as canonical items, table-driven."""

from __future__ import annotations

from typing import Any

import pytest

from switchyard.codecs.openai_assistants.assistant_in import decode_assistant, decode_response_format
from switchyard.codecs.openai_assistants.message_in import decode_message
from switchyard.codecs.openai_assistants.message_items import message_item
from switchyard.codecs.openai_assistants.objects_out import assistant_object, message_object
from switchyard.codecs.openai_assistants.resources_in import decode_tool_resources
from switchyard.codecs.openai_assistants.thread_in import decode_thread
from switchyard.codecs.openai_assistants.tools_in import decode_tools
from switchyard.core.errors import SwitchyardError
from switchyard.core.items import FilePart, ImagePart, Message, RefusalPart, TextPart

FN = {"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}


@pytest.mark.parametrize(("tools", "stored"), [
    (None, []),
    ([{"type": "code_interpreter"}], [{"type": "code_interpreter"}]),
    ([{"type": "file_search"}], [{"type": "file_search"}]),
    ([{"type": "file_search", "file_search": {"max_num_results": 3}}],
     [{"type": "file_search", "file_search": {"max_num_results": 3}}]),
    ([{"type": "file_search", "file_search": {"ranking_options": {"score_threshold": 0.5}}}],
     [{"type": "file_search", "file_search": {"ranking_options": {"ranker": "auto", "score_threshold": 0.5}}}]),
    ([FN], [FN]),
    ([{"type": "function", "function": {"name": "g", "description": "d", "strict": False}}],
     [{"type": "function", "function": {"name": "g", "description": "d", "strict": False}}]),
])
def test_tools_as_stored(tools: Any, stored: list[dict[str, Any]]) -> None:
    assert decode_tools(tools) == stored


@pytest.mark.parametrize(("tools", "param"), [
    ("all", "tools"),
    ([None], "tools[0]"),
    ([{}], "tools[0].type"),
    ([{"type": "retrieval"}], "tools[0].type"),
    ([{"type": "code_interpreter", "x": 1}], "tools[0].x"),
    ([{"type": "file_search", "file_search": {"max_num_results": 0}}], "tools[0].file_search.max_num_results"),
    ([{"type": "file_search", "file_search": {"ranking_options": {}}}],
     "tools[0].file_search.ranking_options.score_threshold"),
    ([{"type": "file_search", "file_search": {"ranking_options": {"score_threshold": 2}}}],
     "tools[0].file_search.ranking_options.score_threshold"),
    ([{"type": "function", "function": {"name": ""}}], "tools[0].function.name"),
    ([{"type": "function", "function": {"name": "f", "parameters": "x"}}], "tools[0].function.parameters"),
    ([{"type": "code_interpreter"}, FN, FN], "tools[2].function.name"),
    ([{"type": "code_interpreter"}] * 129, "tools"),
])
def test_bad_tools_name_the_field(tools: Any, param: str) -> None:
    with pytest.raises(SwitchyardError) as caught:
        decode_tools(tools)
    assert caught.value.param == param


@pytest.mark.parametrize(("raw", "code", "stores", "new"), [
    (None, None, None, 0),
    ({}, None, None, 0),
    ({"code_interpreter": {}}, [], None, 0),
    ({"code_interpreter": {"file_ids": ["file-a"]}}, ["file-a"], None, 0),
    ({"file_search": {}}, None, [], 0),
    ({"file_search": {"vector_store_ids": ["vs_a"]}}, None, ["vs_a"], 0),
    ({"file_search": {"vector_stores": [{"file_ids": ["file-a"], "metadata": {"k": "v"}}]}}, None, None, 1),
])
def test_tool_resources(raw: Any, code: list[str] | None, stores: list[str] | None, new: int) -> None:
    out = decode_tool_resources(raw)
    assert out.code_interpreter_file_ids == code and out.vector_store_ids == stores
    assert len(out.new_vector_stores) == new


@pytest.mark.parametrize(("raw", "param"), [
    ([], "tool_resources"),
    ({"code_interpreter": {"file_ids": ["f"] * 21}}, "tool_resources.code_interpreter.file_ids"),
    ({"code_interpreter": {"file_ids": [""]}}, "tool_resources.code_interpreter.file_ids[0]"),
    ({"file_search": {"vector_store_ids": ["a"], "vector_stores": [{}]}}, "tool_resources.file_search"),
    ({"file_search": {"vector_stores": [{}, {}]}}, "tool_resources.file_search"),
    ({"file_search": {"vector_stores": [{"metadata": {"k": 5}}]}},
     "tool_resources.file_search.vector_stores[0].metadata.k"),
    ({"file_search": {"vector_stores": [{"chunking_strategy": "auto"}]}},
     "tool_resources.file_search.vector_stores[0].chunking_strategy"),
])
def test_bad_tool_resources(raw: Any, param: str) -> None:
    with pytest.raises(SwitchyardError) as caught:
        decode_tool_resources(raw)
    assert caught.value.param == param


def test_assistant_create_and_modify() -> None:
    created = decode_assistant({"model": "m", "name": None, "temperature": 0}, create=True)
    assert created.fields == {"model": "m", "name": None, "tools": [], "metadata": {}, "temperature": 0}
    assert created.resources is None
    modified = decode_assistant({"instructions": "x", "tool_resources": None}, create=False)
    assert modified.fields == {"instructions": "x"} and modified.resources is not None
    assert decode_assistant({}, create=False).fields == {}


@pytest.mark.parametrize(("raw", "out"), [
    (None, None), ("auto", "auto"), ({"type": "text"}, {"type": "text"}),
    ({"type": "json_object"}, {"type": "json_object"}),
    ({"type": "json_schema", "json_schema": {"name": "n", "schema": {"type": "object"}, "strict": True}},
     {"type": "json_schema", "json_schema": {"name": "n", "schema": {"type": "object"}, "strict": True}}),
])
def test_response_formats(raw: Any, out: Any) -> None:
    assert decode_response_format(raw) == out


def test_message_in() -> None:
    message = decode_message({"role": "user", "content": [
        {"type": "text", "text": "hi"}, {"type": "image_file", "image_file": {"file_id": "file-i", "detail": "high"}},
    ], "attachments": [{"file_id": "file-a", "tools": [{"type": "file_search"}, {"type": "file_search"}]}]},
        "messages[2]")
    assert message.content == [{"type": "text", "text": {"value": "hi", "annotations": []}},
                               {"type": "image_file", "image_file": {"file_id": "file-i", "detail": "high"}}]
    assert message.image_files == [("file-i", "messages[2].content[1].image_file.file_id")]
    [attachment] = message.attachments
    assert (attachment.file_id, attachment.tools, attachment.path) == ("file-a", ["file_search"],
                                                                      "messages[2].attachments[0]")


def test_thread_paths_are_prefixed() -> None:
    with pytest.raises(SwitchyardError) as caught:
        decode_thread({"messages": [{"role": "user", "content": [{"type": "text"}]}]}, create=True, path="thread")
    assert caught.value.param == "thread.messages[0].content[0].text"
    with pytest.raises(SwitchyardError) as caught:
        decode_thread({"tool_resources": {"file_search": 1}}, create=True, path="thread")
    assert caught.value.param == "thread.tool_resources.file_search"


def test_stored_message_as_canonical_item() -> None:
    body = message_object(id="msg_1", thread_id="thread_1", created_at=1, role="assistant", content=[
        {"type": "text", "text": {"value": "See 【0†a】", "annotations": [{"type": "file_citation"}]}},
        {"type": "image_url", "image_url": {"url": "https://x.test/i.png", "detail": "low"}},
        {"type": "image_file", "image_file": {"file_id": "file-i"}},
        {"type": "refusal", "refusal": "no"},
        {"type": "text", "text": {"value": "", "annotations": []}},
    ])
    assert message_item(body) == Message(role="assistant", content=[
        TextPart("See 【0†a】"), ImagePart(url="https://x.test/i.png", detail="low"), FilePart(file_id="file-i"),
        RefusalPart("no")])
    assert message_item({**body, "role": "user", "content": []}) == Message(role="user", content=[])


def test_assistant_object_shows_reasoning_effort_only_when_set() -> None:
    stored = {"id": "asst_1", "created_at": 1, "model": "m", "tools": [], "reasoning_effort": None}
    assert "reasoning_effort" not in assistant_object(stored)
    assert assistant_object({**stored, "reasoning_effort": "high"})["reasoning_effort"] == "high"
    assert assistant_object(stored)["object"] == "assistant"
