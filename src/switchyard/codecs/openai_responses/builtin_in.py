"""Stored Responses built-in tool items → ``core.tool_items``."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from switchyard.core.tool_items import (
    BuiltinItem,
    CodeImage,
    CodeInterpreterCall,
    CodeLogs,
    CodeOutput,
    FileSearchCall,
    FileSearchResult,
    ImageGenerationCall,
    ImageSettings,
    McpApprovalRequest,
    McpApprovalResponse,
    McpCall,
    McpListTools,
    McpToolSpec,
    ToolError,
    ToolStatus,
)

_STATUSES: dict[object, ToolStatus] = {"in_progress": "in_progress", "searching": "in_progress",
                                       "interpreting": "in_progress", "generating": "in_progress",
                                       "completed": "completed", "incomplete": "incomplete", "failed": "failed"}


def _status(item: dict[str, Any]) -> ToolStatus:
    return _STATUSES.get(item.get("status"), "completed")


def _file_search_call(item: dict[str, Any]) -> FileSearchCall:
    raw = item.get("results")
    results = None if raw is None else [
        FileSearchResult(file_id=str(r.get("file_id") or ""), filename=str(r.get("filename") or ""),
                         score=float(r.get("score") or 0.0), text=str(r.get("text") or ""),
                         attributes=r.get("attributes"))
        for r in raw if isinstance(r, dict)]
    return FileSearchCall(id=item["id"], queries=list(item.get("queries") or []), results=results,
                          status=_status(item))


def _mcp_list_tools(item: dict[str, Any]) -> McpListTools:
    tools = [McpToolSpec(name=t["name"], input_schema=t.get("input_schema") or {},
                         description=t.get("description"), annotations=t.get("annotations"))
             for t in item.get("tools") or [] if isinstance(t, dict) and isinstance(t.get("name"), str)]
    error = item.get("error")
    return McpListTools(id=item["id"], server_label=item.get("server_label") or "", tools=tools,
                        error=None if error is None else error_text(error))


def _mcp_call(item: dict[str, Any]) -> McpCall:
    error = item.get("error")
    return McpCall(id=item["id"], server_label=item.get("server_label") or "", name=item["name"],
                   arguments=item.get("arguments") or "", output=item.get("output"),
                   error=None if error is None else error_text(error), status=_status(item))


def _approval_request(item: dict[str, Any]) -> McpApprovalRequest:
    return McpApprovalRequest(id=item["id"], server_label=item.get("server_label") or "", name=item["name"],
                              arguments=item.get("arguments") or "")


def _approval_response(item: dict[str, Any]) -> McpApprovalResponse:
    return McpApprovalResponse(approval_request_id=str(item.get("approval_request_id")),
                               approve=bool(item.get("approve")), reason=item.get("reason"), id=item.get("id"))


def _code_output(output: dict[str, Any]) -> CodeOutput:
    if output.get("type") == "image":
        return CodeImage(url=str(output.get("url") or ""))
    return CodeLogs(logs=str(output.get("logs") or ""))


def _code_interpreter_call(item: dict[str, Any]) -> CodeInterpreterCall:
    outputs = item.get("outputs")
    return CodeInterpreterCall(id=item["id"], code=item.get("code") or "", container_id=item.get("container_id"),
                               outputs=None if outputs is None else [_code_output(o) for o in outputs
                                                                     if isinstance(o, dict)],
                               status=_status(item))


def _str(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _image_generation_call(item: dict[str, Any]) -> ImageGenerationCall:
    settings = ImageSettings(background=_str(item.get("background")), output_format=_str(item.get("output_format")),
                             quality=_str(item.get("quality")), size=_str(item.get("size")))
    raw = item.get("error")
    error = None
    if raw is not None:
        fields = raw if isinstance(raw, dict) else {}
        error = ToolError(message=error_text(raw), type=_str(fields.get("type")) or "server_error",
                          code=_str(fields.get("code")), param=_str(fields.get("param")))
    return ImageGenerationCall(id=item["id"], status=_status(item), result=_str(item.get("result")),
                               revised_prompt=_str(item.get("revised_prompt")), settings=settings, error=error)


BUILTIN_IN: dict[str, Callable[[dict[str, Any]], BuiltinItem]] = {
    "file_search_call": _file_search_call,
    "mcp_list_tools": _mcp_list_tools,
    "mcp_call": _mcp_call,
    "mcp_approval_request": _approval_request,
    "mcp_approval_response": _approval_response,
    "code_interpreter_call": _code_interpreter_call,
    "image_generation_call": _image_generation_call,
}


def error_text(error: object) -> str:
    """An ``error`` as stored: a string, or an object with a message or text content."""
    if isinstance(error, str):
        return error
    if isinstance(error, dict):
        message = error.get("message")
        if isinstance(message, str):
            return message
        content = error.get("content")
        if isinstance(content, list):
            texts: list[str] = [c["text"] for c in content if isinstance(c, dict) and isinstance(c.get("text"), str)]
            if texts:
                return "\n".join(texts)
        if isinstance(content, str):
            return content
    return json.dumps(error)
