"""Anthropic ``messages`` (and ``system``) → canonical items, keeping block order."""

from __future__ import annotations

import base64
import json
import logging
from typing import Any, cast

from switchyard.codecs.anthropic_messages import fields as f
from switchyard.codecs.anthropic_messages.client_result import VENDOR
from switchyard.codecs.anthropic_messages.wire import SERVER_TOOL_BLOCKS
from switchyard.core.errors import invalid, unsupported
from switchyard.core.items import (
    FilePart,
    FunctionCall,
    FunctionCallOutput,
    ImagePart,
    Item,
    Message,
    Part,
    Reasoning,
    Role,
    TextPart,
)
from switchyard.core.tool_items import VendorItem

log = logging.getLogger(__name__)

# Block types Anthropic defines that Switchyard cannot carry (search results, uploads...).
_KNOWN_UNSUPPORTED = frozenset({
    "mcp_tool_use", "mcp_tool_result", "container_upload", "search_result", "compaction",
})
# Server-tool turns in the history (a client that used ``web_search_20250305`` sends its
# call and result back) are kept whole as vendor items: they go back to an Anthropic
# upstream as they came and are left out for any other.


def decode_system(value: Any, path: str = "system") -> Message | None:
    """Top-level ``system`` (a string or text blocks) as a system Message, or None if empty."""
    parts = text_parts(value, path)
    return Message(role="system", content=parts) if parts else None


def text_parts(value: Any, path: str) -> list[Part]:
    if isinstance(value, str):
        return [TextPart(value)] if value else []
    parts: list[Part] = []
    for j, block in enumerate(f.array(value, path)):
        bpath = f.at(path, j)
        block = f.obj(block, bpath)
        f.one_of(f.get(block, "type", bpath, required=True), f.at(bpath, "type"), ("text",))
        parts.append(_text(block, bpath))
    return parts


def decode_messages(value: Any) -> list[Item]:
    items: list[Item] = []
    for i, message in enumerate(f.array(value, "messages")):
        items.extend(_message(message, f.at("messages", i)))
    if not items:
        raise invalid("messages: at least one message is required", "messages")
    return items


def _message(value: Any, path: str) -> list[Item]:
    message = f.obj(value, path)
    role = cast(Role, f.one_of(f.get(message, "role", path, required=True), f.at(path, "role"),
                               ("user", "assistant", "system")))
    content = f.get(message, "content", path, required=True)
    cpath = f.at(path, "content")
    if role == "system":
        parts = text_parts(content, cpath)
        return [Message(role="system", content=parts)] if parts else []
    if isinstance(content, str):
        return [Message(role=role, content=[TextPart(content)])]
    return _blocks(role, f.array(content, cpath), cpath)


def _blocks(role: Role, blocks: list[Any], path: str) -> list[Item]:
    """Parts gather into one Message until a tool call, tool result or thinking block."""
    items: list[Item] = []
    pending: list[Part] = []

    def flush() -> None:
        if pending:
            items.append(Message(role=role, content=list(pending)))
            pending.clear()

    for j, raw in enumerate(blocks):
        bpath = f.at(path, j)
        block = f.obj(raw, bpath)
        kind = f.string(f.get(block, "type", bpath, required=True), f.at(bpath, "type"))
        if kind in SERVER_TOOL_BLOCKS:
            flush()
            items.append(VendorItem(VENDOR, dict(block)))
            continue
        part_or_item = _block(role, kind, block, bpath)
        if isinstance(part_or_item, TextPart | ImagePart | FilePart):
            pending.append(part_or_item)
        else:
            flush()
            items.append(part_or_item)
    flush()
    return items


_USER_BLOCKS = ("text", "image", "document", "tool_result")
_ASSISTANT_BLOCKS = ("text", "thinking", "redacted_thinking", "tool_use")


def _block(role: Role, kind: str, block: dict[str, Any], path: str) -> TextPart | ImagePart | FilePart | Item:
    tpath = f.at(path, "type")
    allowed = _USER_BLOCKS if role == "user" else _ASSISTANT_BLOCKS
    if kind not in allowed:
        if kind in _KNOWN_UNSUPPORTED:
            raise unsupported(tpath, f"content blocks of type '{kind}' are not supported")
        names = ", ".join(repr(k) for k in allowed)
        raise invalid(f"{tpath}: a {role} message accepts {names}; got {kind!r}", tpath)
    match kind:
        case "text":
            return _text(block, path)
        case "image":
            return _image(block, path)
        case "document":
            return _document(block, path)
        case "tool_result":
            return _tool_result(block, path)
        case "tool_use":
            return _tool_use(block, path)
        case "thinking":
            text = f.string(f.get(block, "thinking", path, required=True), f.at(path, "thinking"))
            sig = f.get(block, "signature", path, required=True)
            return Reasoning(text=text, signature=f.string(sig, f.at(path, "signature")))
        case _:  # redacted_thinking
            data = f.string(f.get(block, "data", path, required=True), f.at(path, "data"))
            return Reasoning(encrypted=data)


def _text(block: dict[str, Any], path: str) -> TextPart:
    text = f.string(f.get(block, "text", path, required=True), f.at(path, "text"))
    cache = f.optional(block, "cache_control", path, f.obj)
    return TextPart(text, cache_control=cache)


def _source(block: dict[str, Any], path: str) -> tuple[str, dict[str, Any], str]:
    spath = f.at(path, "source")
    source = f.obj(f.get(block, "source", path, required=True), spath)
    kind = f.string(f.get(source, "type", spath, required=True), f.at(spath, "type"))
    return kind, source, spath


def _need(source: dict[str, Any], key: str, path: str) -> str:
    return f.string(f.get(source, key, path, required=True), f.at(path, key))


def _image(block: dict[str, Any], path: str) -> ImagePart:
    kind, source, spath = _source(block, path)
    if kind == "base64":
        data, media_type = _need(source, "data", spath), _need(source, "media_type", spath)
        return ImagePart(data=data, media_type=media_type, path=path)
    if kind == "url":
        return ImagePart(url=_need(source, "url", spath), path=path)
    if kind == "file":
        raise unsupported(f.at(spath, "type"), "image sources of type 'file' are not supported")
    tpath = f.at(spath, "type")
    raise invalid(f"{tpath}: expected 'base64' or 'url', got {kind!r}", tpath)


def _document(block: dict[str, Any], path: str) -> FilePart:
    kind, source, spath = _source(block, path)
    title = f.optional(block, "title", path, f.string)
    if kind == "base64":
        return FilePart(
            data=_need(source, "data", spath), media_type=_need(source, "media_type", spath),
            filename=title, path=path,
        )
    if kind == "text":
        text = _need(source, "data", spath)
        return FilePart(
            data=base64.b64encode(text.encode()).decode(), media_type="text/plain", filename=title,
            path=path,
        )
    if kind == "url":
        url = _need(source, "url", spath)
        return FilePart(url=url, media_type="application/pdf", filename=title, path=path)
    if kind == "file":
        return FilePart(file_id=_need(source, "file_id", spath), filename=title, path=path)
    tpath = f.at(spath, "type")
    if kind == "content":
        raise unsupported(tpath, "document sources of type 'content' are not supported")
    raise invalid(f"{tpath}: expected 'base64', 'text', 'url' or 'file', got {kind!r}", tpath)


def _tool_use(block: dict[str, Any], path: str) -> FunctionCall:
    call_id = f.string(f.get(block, "id", path, required=True), f.at(path, "id"))
    name = f.string(f.get(block, "name", path, required=True), f.at(path, "name"))
    args = f.obj(f.get(block, "input", path, required=True), f.at(path, "input"))
    return FunctionCall(call_id=call_id, name=name, arguments=json.dumps(args, ensure_ascii=False))


def _tool_result(block: dict[str, Any], path: str) -> FunctionCallOutput:
    call_id = f.string(f.get(block, "tool_use_id", path, required=True), f.at(path, "tool_use_id"))
    is_error = f.optional(block, "is_error", path, f.boolean) or False
    content = block.get("content")
    cpath = f.at(path, "content")
    output: list[Part] = []
    if isinstance(content, str):
        output = [TextPart(content)] if content else []
    elif content is not None:
        for j, raw in enumerate(f.array(content, cpath)):
            bpath = f.at(cpath, j)
            inner = f.obj(raw, bpath)
            kind = f.string(f.get(inner, "type", bpath, required=True), f.at(bpath, "type"))
            if kind == "text":
                output.append(_text(inner, bpath))
            elif kind == "image":
                output.append(_image(inner, bpath))
            elif kind == "document":
                output.append(_document(inner, bpath))
            elif kind == "tool_reference":
                output.append(_tool_reference(inner, bpath))
            else:
                raise unsupported(
                    f.at(bpath, "type"), f"tool_result content of type '{kind}' is not supported"
                )
    _move_cache_control(block, output, path)
    return FunctionCallOutput(call_id=call_id, output=output, is_error=is_error)


def _tool_reference(block: dict[str, Any], path: str) -> TextPart:
    """A tool a tool search loaded (Claude Code's ``ToolSearch``): every tool is offered
    to non-Anthropic models from the start, so the reference becomes a note."""
    name = f.string(f.get(block, "tool_name", path, required=True), f.at(path, "tool_name"))
    return TextPart(f"Tool loaded: {name}")


def _move_cache_control(block: dict[str, Any], output: list[Part], path: str) -> None:
    """FunctionCallOutput has no cache_control; the last text part carries the block's
    (same cache breakpoint: clients such as Claude Code mark the last tool_result)."""
    cache = f.optional(block, "cache_control", path, f.obj)
    last = output[-1] if output else None
    if cache is not None and isinstance(last, TextPart) and last.cache_control is None:
        last.cache_control = cache
