"""How each built-in tool's past items read to a model (``tools.table.for_model``)."""

from __future__ import annotations

import pytest

from switchyard.core.items import FunctionCall, FunctionCallOutput, Item, TextPart, text_message
from switchyard.core.tool_items import (
    CodeInterpreterCall,
    CodeLogs,
    FileSearchCall,
    FileSearchResult,
    ImageGenerationCall,
    McpApprovalRequest,
    McpApprovalResponse,
    McpCall,
    McpListTools,
    ToolError,
    VendorItem,
)
from switchyard.tools.table import for_model

CASES = [
    pytest.param(McpCall("mcp_1", "docs", "search", "{}", output="found"),
                 [FunctionCall("mcp_1", "search", "{}", id="mcp_1"), FunctionCallOutput("mcp_1", [TextPart("found")])],
                 id="mcp-call"),
    pytest.param(McpCall("mcp_1", "docs", "search", "{}", error="boom", status="failed"),
                 [FunctionCall("mcp_1", "search", "{}", id="mcp_1"),
                  FunctionCallOutput("mcp_1", [TextPart("boom")], is_error=True)], id="mcp-call-failed"),
    pytest.param(McpCall("mcp_1", "docs", "search", "{}", status="in_progress"),
                 [FunctionCall("mcp_1", "search", "{}", id="mcp_1")], id="mcp-call-cut-off"),
    pytest.param(McpListTools("mcpl_1", "docs"), [], id="mcp-list-tools"),
    pytest.param(McpApprovalRequest("mcpr_1", "docs", "s", "{}"), [], id="approval-request"),
    pytest.param(McpApprovalResponse("mcpr_1", True), [], id="approval-response"),
    pytest.param(FileSearchCall("fs_1", ["q"], [FileSearchResult("file-1", "a.txt", 0.5, "alpha")]),
                 [FunctionCall("fs_1", "file_search", "{\"queries\":[\"q\"]}"),
                  FunctionCallOutput("fs_1", [TextPart("[a.txt] alpha")])], id="file-search"),
    pytest.param(FileSearchCall("fs_1", ["q"], None),
                 [FunctionCall("fs_1", "file_search", "{\"queries\":[\"q\"]}"),
                  FunctionCallOutput("fs_1", [TextPart("(The results of this search were not kept.)")])],
                 id="file-search-results-not-kept"),
    pytest.param(FileSearchCall("fs_1", [], []),
                 [FunctionCall("fs_1", "file_search", "{\"queries\":[]}"),
                  FunctionCallOutput("fs_1", [TextPart("No results.")])], id="file-search-nothing"),
    pytest.param(CodeInterpreterCall("ci_1", "print(1)", outputs=[CodeLogs("1")]),
                 [FunctionCall("ci_1", "code_interpreter", "{\"code\":\"print(1)\"}"),
                  FunctionCallOutput("ci_1", [TextPart("1")])], id="code-interpreter"),
    pytest.param(ImageGenerationCall("ig_1", result="QQ==", revised_prompt="a cat"),
                 [FunctionCall("ig_1", "image_generation", "{\"prompt\":\"a cat\"}"),
                  FunctionCallOutput("ig_1", [TextPart("The image was generated and shown to the user.")])],
                 id="image-generation"),
    pytest.param(ImageGenerationCall("ig_1", status="failed", error=ToolError("no")),
                 [FunctionCall("ig_1", "image_generation", "{\"prompt\":\"\"}"),
                  FunctionCallOutput("ig_1", [TextPart("Image generation failed.")], is_error=True)],
                 id="image-generation-failed"),
    pytest.param(VendorItem("anthropic", {"type": "server_tool_use"}),
                 [VendorItem("anthropic", {"type": "server_tool_use"})], id="vendor-item-kept"),
    pytest.param(text_message("user", "hi"), [text_message("user", "hi")], id="message-kept"),
]


@pytest.mark.parametrize(("item", "expected"), CASES)
def test_for_model(item: Item, expected: list[Item]) -> None:
    assert for_model([item]) == expected
