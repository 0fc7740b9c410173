"""``core.tool_items`` as Responses output items (the shapes of ``output_item.done``)."""

from __future__ import annotations

from typing import Any

from switchyard.core.tool_items import (
    BuiltinItem,
    CodeImage,
    CodeInterpreterCall,
    FileSearchCall,
    ImageGenerationCall,
    ImageSettings,
    McpApprovalRequest,
    McpApprovalResponse,
    McpCall,
    McpListTools,
)


def mcp_error(message: str) -> dict[str, Any]:
    """An ``mcp_call`` error as the SDK types it (a tool execution error with text content)."""
    return {"type": "mcp_tool_execution_error", "content": [{"type": "text", "text": message}]}


def image_settings(settings: ImageSettings) -> dict[str, str]:
    """The settings the image model reported, as the fields of an item or event."""
    fields = {"background": settings.background, "output_format": settings.output_format,
              "quality": settings.quality, "size": settings.size}
    return {k: v for k, v in fields.items() if v is not None}


def _image_generation_call(item: ImageGenerationCall) -> dict[str, Any]:
    wire: dict[str, Any] = {"id": item.id, "type": "image_generation_call", "status": item.status,
                            "result": item.result}
    if item.revised_prompt is not None:
        wire["revised_prompt"] = item.revised_prompt
    wire.update(image_settings(item.settings))
    if item.error is not None:
        wire["error"] = {"type": item.error.type, "code": item.error.code, "message": item.error.message,
                         "param": item.error.param}
    return wire


def builtin_item(item: BuiltinItem, *, search_results: bool = False, code_outputs: bool = False) -> dict[str, Any]:
    """``search_results``: a search's results are shown; ``code_outputs``: code's logs and
    images are (``include`` asked for them)."""
    match item:
        case FileSearchCall():
            results = None
            if search_results and item.results is not None:
                results = [{"file_id": r.file_id, "filename": r.filename, "score": r.score,
                            "attributes": r.attributes, "text": r.text} for r in item.results]
            return {"id": item.id, "type": "file_search_call", "status": item.status, "queries": list(item.queries),
                    "results": results}
        case McpListTools():
            return {"id": item.id, "type": "mcp_list_tools", "server_label": item.server_label,
                    "tools": [{"name": t.name, "description": t.description, "input_schema": t.input_schema,
                               "annotations": t.annotations} for t in item.tools],
                    "error": item.error}
        case McpCall():
            return {"id": item.id, "type": "mcp_call", "server_label": item.server_label, "name": item.name,
                    "arguments": item.arguments, "output": item.output,
                    "error": None if item.error is None else mcp_error(item.error), "status": item.status}
        case McpApprovalRequest():
            return {"id": item.id, "type": "mcp_approval_request", "server_label": item.server_label,
                    "name": item.name, "arguments": item.arguments}
        case McpApprovalResponse():
            return {"id": item.id, "type": "mcp_approval_response", "approval_request_id": item.approval_request_id,
                    "approve": item.approve, "reason": item.reason}
        case CodeInterpreterCall():
            outputs = None if item.outputs is None or not code_outputs else [
                {"type": "image", "url": o.url} if isinstance(o, CodeImage) else {"type": "logs", "logs": o.logs}
                for o in item.outputs]
            return {"id": item.id, "type": "code_interpreter_call", "status": item.status, "code": item.code,
                    "container_id": item.container_id, "outputs": outputs}
        case ImageGenerationCall():
            return _image_generation_call(item)
