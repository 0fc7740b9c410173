"""Stored Responses wire items (as ``decode_input`` or the encoder made them) to
canonical items, to build a model request.

- ``mcp_call`` becomes a ``FunctionCall`` (call id = the item id, name = the MCP
  tool's own name) and its ``FunctionCallOutput`` (the output, or the error text
  with ``is_error``); a call still without a result gives the call only.
- ``custom_tool_call`` becomes a ``FunctionCall`` of the custom tool's function form
  (arguments ``{"input": ...}``), ``custom_tool_call_output`` a ``FunctionCallOutput``;
  a call with a ``namespace`` gets its flattened name (see ``tool_names``).
- ``mcp_list_tools``, ``mcp_approval_request`` and ``mcp_approval_response`` are the
  engine's business, ``additional_tools`` the request's tools, and hosted-tool items this
  server never makes (``web_search_call``, ``tool_search_call``, ``tool_search_output``)
  carry nothing a model here can use: all are skipped. ``item_reference`` must be
  resolved before."""

from __future__ import annotations

import json
from typing import Any

import orjson

from switchyard.codecs.openai_chat.wire import parse_data_url
from switchyard.codecs.openai_responses.compaction import SUMMARY_HEADER, unpack_summary
from switchyard.codecs.openai_responses.opaque import unpack_text
from switchyard.codecs.openai_responses.tool_names import custom_arguments, flat_name
from switchyard.core.errors import invalid
from switchyard.core.items import (
    FilePart,
    FunctionCall,
    FunctionCallOutput,
    ImagePart,
    Item,
    Message,
    Part,
    Reasoning,
    RefusalPart,
    TextPart,
    text_message,
)

_SKIPPED = frozenset({
    "mcp_list_tools", "mcp_approval_request", "mcp_approval_response", "additional_tools", "web_search_call",
    "tool_search_call", "tool_search_output",
})


def items_to_canonical(items: list[dict[str, Any]], inputs_from: int = 0) -> list[Item]:
    """``inputs_from``: where the request's own ``input`` starts in ``items`` (the rest is
    history); its images and files carry their ``input[i].content[j]`` path."""
    out: list[Item] = []
    for i, item in enumerate(items):
        kind = item.get("type", "message")
        where = f"input[{i - inputs_from}]" if i >= inputs_from else None
        if kind == "message":
            content = _content(item.get("content"))
            out.append(Message(role=item["role"], content=[_part(p, _at(where, "content", j))
                                                           for j, p in enumerate(content)]))
        elif kind == "function_call":
            out.append(FunctionCall(call_id=item["call_id"], name=flat_name(item.get("namespace"), item["name"]),
                                    arguments=item.get("arguments") or "", id=item.get("id")))
        elif kind == "custom_tool_call":
            out.append(FunctionCall(call_id=item["call_id"], name=flat_name(item.get("namespace"), item["name"]),
                                    arguments=custom_arguments(item.get("input") or ""), id=item.get("id")))
        elif kind in ("function_call_output", "custom_tool_call_output"):
            output = item.get("output")
            parts: list[Part] = ([TextPart(output)] if isinstance(output, str)
                     else [_part(p, _at(where, "output", j)) for j, p in enumerate(output or [])])
            out.append(FunctionCallOutput(call_id=item["call_id"], output=parts))
        elif kind == "reasoning":
            out.append(_reasoning(item))
        elif kind == "mcp_call":
            out.extend(_mcp_call(item))
        elif kind == "file_search_call":
            out.extend(_file_search_call(item))
        elif kind == "image_generation_call":
            out.extend(_image_generation_call(item))
        elif kind == "compaction":
            summary = unpack_summary(item.get("encrypted_content"))
            if summary is not None:
                out.append(text_message("developer", SUMMARY_HEADER + summary))
        elif kind == "item_reference":
            raise invalid(f"Unresolved item reference '{item.get('id')}'.", where or "input")
        elif kind not in _SKIPPED:
            raise invalid(f"Items of type '{kind}' cannot be given to a model on this server.",
                          f"{where or 'input'}.type")
    return out


def _content(content: object) -> list[dict[str, Any]]:
    if isinstance(content, str):
        return [{"type": "input_text", "text": content}]
    return list(content) if isinstance(content, list) else []


def _at(where: str | None, key: str, j: int) -> str | None:
    return None if where is None else f"{where}.{key}[{j}]"


def _part(part: dict[str, Any], path: str | None) -> Part:
    kind = part.get("type")
    if kind in ("input_text", "output_text"):
        return TextPart(part.get("text") or "")
    if kind == "refusal":
        return RefusalPart(part.get("refusal") or "")
    if kind == "input_image":
        image = _image(part)
        image.path = path
        return image
    if kind == "input_file":
        file = _file(part)
        file.path = path
        return file
    raise invalid(f"Content parts of type '{kind}' are not supported on this server.", "input")


def _image(part: dict[str, Any]) -> ImagePart | FilePart:
    url = part.get("image_url")
    detail = part.get("detail")
    detail = None if detail in (None, "auto") else detail
    if url is None:
        return FilePart(file_id=part.get("file_id"))
    parsed = parse_data_url(url) if url.startswith("data:") else None
    if parsed is not None:
        return ImagePart(data=parsed[1], media_type=parsed[0], detail=detail)
    return ImagePart(url=url, detail=detail)


def _file(part: dict[str, Any]) -> FilePart:
    filename = part.get("filename")
    data = part.get("file_data")
    media_type = None
    if data is not None:
        parsed = parse_data_url(data)
        if parsed is not None:
            media_type, data = parsed
    if media_type is None and data is not None and filename and filename.lower().endswith(".pdf"):
        media_type = "application/pdf"
    return FilePart(data=data, media_type=media_type, file_id=part.get("file_id"), url=part.get("file_url"),
                    filename=filename)


def _reasoning(item: dict[str, Any]) -> Reasoning:
    signature, encrypted, packed_text = unpack_text(item.get("encrypted_content"))
    text = "".join(p.get("text") or "" for p in item.get("content") or []) or packed_text or ""
    summary = [p.get("text") or "" for p in item.get("summary") or []]
    if not text and signature and summary:
        text = "".join(summary)  # reasoning streamed as a summary still carries its signed text
    return Reasoning(text=text, signature=signature, encrypted=encrypted, summary=summary, id=item.get("id"))


def _mcp_call(item: dict[str, Any]) -> list[Item]:
    call = FunctionCall(call_id=item["id"], name=item["name"], arguments=item.get("arguments") or "",
                        id=item["id"])
    error = item.get("error")
    output = item.get("output")
    if error is not None:
        text = error if isinstance(error, str) else _error_text(error)
        return [call, FunctionCallOutput(call.call_id, [TextPart(text)], is_error=True)]
    if output is None:
        return [call]
    return [call, FunctionCallOutput(call.call_id, [TextPart(output)])]


def _error_text(error: object) -> str:
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


def _image_generation_call(item: dict[str, Any]) -> list[Item]:
    """A past image as the model's call of the ``image_generation`` tool and its outcome
    (the image itself is the user's; the model is told it was made)."""
    prompt = item.get("revised_prompt") if isinstance(item.get("revised_prompt"), str) else ""
    arguments = orjson.dumps({"prompt": prompt}).decode()
    call = FunctionCall(call_id=item["id"], name="image_generation", arguments=arguments)
    done = item.get("status") == "completed"
    text = "The image was generated and shown to the user." if done else "Image generation failed."
    return [call, FunctionCallOutput(call_id=item["id"], output=[TextPart(text)], is_error=not done)]


def _file_search_call(item: dict[str, Any]) -> list[Item]:
    """A past search as the model's call of the ``file_search`` tool and its answer."""
    call = FunctionCall(call_id=item["id"], name="file_search",
                        arguments=orjson.dumps({"queries": item.get("queries") or []}).decode())
    results = item.get("results")
    if results is None:
        text = "(The results of this search were not kept.)"
    else:
        text = "\n\n".join(f"[{r.get('filename')}] {r.get('text', '')}" for r in results) or "No results."
    return [call, FunctionCallOutput(call_id=item["id"], output=[TextPart(text)])]
