"""items_to_canonical, items_to_output and the encrypted_content convention."""

from __future__ import annotations

import itertools

import pytest
from openai.types.responses import ResponseOutputItem
from pydantic import TypeAdapter

from switchyard.codecs.openai_responses import (
    decode_request,
    items_to_canonical,
    items_to_output,
    pack_encrypted_content,
    unpack_encrypted_content,
)
from switchyard.core.errors import SwitchyardError
from switchyard.core.items import (
    FilePart,
    FunctionCall,
    FunctionCallOutput,
    ImagePart,
    Message,
    Reasoning,
    RefusalPart,
    TextPart,
)
from switchyard.core.tool_items import (
    FileSearchCall,
    FileSearchResult,
    McpApprovalRequest,
    McpApprovalResponse,
    McpCall,
    McpListTools,
    McpToolSpec,
)

OUTPUT_ITEM = TypeAdapter(ResponseOutputItem)


def ids():
    counter = itertools.count(1)
    return lambda prefix: f"{prefix}{next(counter)}"


def normalised(*items: object) -> list[dict]:
    return decode_request({"model": "m", "input": list(items)}, new_item_id=ids()).input_items


CASES = [
    pytest.param({"role": "user", "content": "hi"}, [Message("user", [TextPart("hi")])], id="text"),
    pytest.param({"role": "system", "content": "rules"}, [Message("system", [TextPart("rules")])], id="system"),
    pytest.param(
        {"role": "user", "content": [
            {"type": "input_image", "image_url": "data:image/png;base64,AAAA", "detail": "low"},
            {"type": "input_image", "image_url": "https://x.test/a.png"},
            {"type": "input_image", "file_id": "file-1"},
        ]},
        [Message("user", [ImagePart(data="AAAA", media_type="image/png", detail="low"),
                          ImagePart(url="https://x.test/a.png"), FilePart(file_id="file-1")])],
        id="images",
    ),
    pytest.param(
        {"role": "user", "content": [
            {"type": "input_file", "file_data": "data:application/pdf;base64,QUJD", "filename": "a.pdf"},
            {"type": "input_file", "file_data": "QUJD", "filename": "b.pdf"},
            {"type": "input_file", "file_id": "file-2"},
            {"type": "input_file", "file_url": "https://x.test/c.pdf"},
        ]},
        [Message("user", [FilePart(data="QUJD", media_type="application/pdf", filename="a.pdf"),
                          FilePart(data="QUJD", media_type="application/pdf", filename="b.pdf"),
                          FilePart(file_id="file-2"), FilePart(url="https://x.test/c.pdf")])],
        id="files",
    ),
    pytest.param(
        {"type": "message", "role": "assistant", "id": "msg_a",
         "content": [{"type": "output_text", "text": "yes", "annotations": []}, {"type": "refusal", "refusal": "no"}]},
        [Message("assistant", [TextPart("yes"), RefusalPart("no")])],
        id="assistant-output-message",
    ),
    pytest.param(
        {"type": "function_call", "id": "fc_7", "call_id": "call_1", "name": "f", "arguments": "{\"a\":1}"},
        [FunctionCall("call_1", "f", "{\"a\":1}", id="fc_7")],
        id="function-call",
    ),
    pytest.param(
        {"type": "function_call_output", "call_id": "call_1", "output": "42"},
        [FunctionCallOutput("call_1", [TextPart("42")])],
        id="function-call-output",
    ),
    pytest.param(
        {"type": "function_call_output", "call_id": "call_1",
         "output": [{"type": "input_text", "text": "see"}, {"type": "input_image", "image_url": "https://x/i.png"}]},
        [FunctionCallOutput("call_1", [TextPart("see"), ImagePart(url="https://x/i.png")])],
        id="function-call-output-parts",
    ),
    pytest.param(
        {"type": "reasoning", "id": "rs_1", "summary": [{"type": "summary_text", "text": "short"}],
         "content": [{"type": "reasoning_text", "text": "long"}], "encrypted_content": "sig:SIG"},
        [Reasoning(text="long", signature="SIG", summary=["short"], id="rs_1")],
        id="reasoning-signed",
    ),
    pytest.param(
        {"type": "reasoning", "id": "rs_1", "summary": [], "encrypted_content": "gAAAAblob"},
        [Reasoning(encrypted="gAAAAblob", id="rs_1")],
        id="reasoning-openai-encrypted",
    ),
    pytest.param(
        {"type": "mcp_call", "id": "mcp_1", "server_label": "docs", "name": "search", "arguments": "{}",
         "output": "found"},
        [McpCall("mcp_1", "docs", "search", "{}", output="found")],
        id="mcp-call",
    ),
    pytest.param(
        {"type": "mcp_call", "id": "mcp_1", "server_label": "docs", "name": "search", "arguments": "{}",
         "error": {"type": "mcp_tool_execution_error", "content": [{"type": "text", "text": "boom"}]}},
        [McpCall("mcp_1", "docs", "search", "{}", error="boom")],
        id="mcp-call-error",
    ),
    pytest.param(
        {"type": "mcp_list_tools", "id": "mcpl_1", "server_label": "docs",
         "tools": [{"name": "s", "input_schema": {"type": "object"}, "description": "d"}]},
        [McpListTools("mcpl_1", "docs", [McpToolSpec("s", {"type": "object"}, "d")])], id="mcp-list",
    ),
    pytest.param(
        {"type": "mcp_approval_request", "id": "mcpr_1", "server_label": "docs", "name": "s", "arguments": "{}"},
        [McpApprovalRequest("mcpr_1", "docs", "s", "{}")], id="mcp-approval-request",
    ),
    pytest.param(
        {"type": "mcp_approval_response", "id": "mcpa_1", "approval_request_id": "mcpr_1", "approve": False,
         "reason": "no"},
        [McpApprovalResponse("mcpr_1", False, "no", id="mcpa_1")],
        id="mcp-approval-response",
    ),
]


@pytest.mark.parametrize(("item", "expected"), CASES)
def test_items_to_canonical(item, expected):
    assert items_to_canonical(normalised(item)) == expected


def test_stored_file_search_call_keeps_its_results():
    stored = {"type": "file_search_call", "id": "fs_1", "status": "completed", "queries": ["q"],
              "results": [{"file_id": "file-1", "filename": "a.txt", "score": 0.5, "text": "t", "attributes": {}}]}
    assert items_to_canonical([stored]) == [
        FileSearchCall("fs_1", ["q"], [FileSearchResult("file-1", "a.txt", 0.5, "t", {})])]
    assert items_to_canonical([{**stored, "results": None}]) == [FileSearchCall("fs_1", ["q"], None)]


def test_unresolved_reference_is_an_error():
    with pytest.raises(SwitchyardError) as info:
        items_to_canonical(normalised({"type": "item_reference", "id": "msg_1"}))
    assert info.value.param == "input[0]"


def test_part_paths_index_the_input_behind_the_history():
    image = {"type": "input_image", "image_url": "https://example.com/a.png"}
    file = {"type": "input_file", "file_id": "file_1"}
    history = normalised({"role": "user", "content": [image]})
    inputs = normalised({"role": "user", "content": "hi"},
                        {"type": "function_call_output", "call_id": "c1", "output": [file]},
                        {"role": "user", "content": [{"type": "input_text", "text": "look"}, image]})
    items = items_to_canonical([*history, *inputs], inputs_from=len(history))
    assert [items[0].content[0].path, items[2].output[0].path, items[3].content[1].path] == [
        None, "input[1].output[0]", "input[2].content[1]"]
    with pytest.raises(SwitchyardError) as info:
        items_to_canonical([*history, *normalised({"type": "item_reference", "id": "msg_1"})], inputs_from=1)
    assert info.value.param == "input[0]"


@pytest.mark.parametrize(("signature", "encrypted", "packed"), [
    (None, None, None),
    ("SIG", None, "sig:SIG"),
    (None, "gAAAAblob", "gAAAAblob"),
    ("SIG", "data", "sig:SIG;enc:data"),
])
def test_encrypted_content_convention(signature, encrypted, packed):
    assert pack_encrypted_content(signature, encrypted) == packed
    assert unpack_encrypted_content(packed) == (signature, encrypted)


@pytest.mark.parametrize("reasoning", [
    Reasoning(text="I think", signature="EqQBCkYIBRgCKkC+/=="),
    Reasoning(encrypted="redacted-data"),
    Reasoning(text="t", signature="S", encrypted="E", summary=["s"]),
])
def test_reasoning_survives_output_and_back(reasoning):
    (wire,) = items_to_output([reasoning], ids())
    OUTPUT_ITEM.validate_python(wire)
    (back,) = items_to_canonical(normalised(wire))
    assert (back.text, back.signature, back.encrypted, back.summary) == (
        reasoning.text, reasoning.signature, reasoning.encrypted, reasoning.summary)


def test_items_to_output_shapes():
    items = [
        Message("user", [TextPart("q")]),
        Reasoning(text="hmm"),
        Message("assistant", [TextPart("a"), RefusalPart("r")]),
        FunctionCall("call_1", "f", "{}"),
        FunctionCallOutput("call_1", [TextPart("x")]),
    ]
    out = items_to_output(items, ids())
    assert [o["type"] for o in out] == ["reasoning", "message", "function_call"]
    assert out[0] == {"id": "rs_1", "type": "reasoning", "summary": [],
                      "content": [{"type": "reasoning_text", "text": "hmm"}]}
    assert out[1]["id"] == "msg_2" and out[1]["status"] == "completed"
    assert out[2] == {"id": "fc_3", "type": "function_call", "status": "completed", "arguments": "{}",
                      "call_id": "call_1", "name": "f"}
    for item in out:
        OUTPUT_ITEM.validate_python(item)
    assert items_to_canonical(out) == [Reasoning(text="hmm", id="rs_1"),
                                       Message("assistant", [TextPart("a"), RefusalPart("r")]),
                                       FunctionCall("call_1", "f", "{}", id="fc_3")]
