"""Responses and conversation items as a line of text each, for the stored-object pages."""

from __future__ import annotations

from typing import Any


def _content_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    parts = []
    for part in content or []:
        if not isinstance(part, dict):
            continue
        text = part.get("text") or part.get("refusal") or part.get("transcript")
        parts.append(str(text) if text is not None else f"[{part.get('type', 'part')}]")
    return "".join(parts)


def item_label(item: dict[str, Any]) -> str:
    kind = str(item.get("type") or "message")
    return str(item.get("role") or "message") if kind == "message" else kind


def item_text(item: dict[str, Any]) -> str:
    kind = item.get("type") or "message"
    if kind == "message":
        return _content_text(item.get("content"))
    if kind in ("function_call", "custom_tool_call"):
        return f"{item.get('name')}({item.get('arguments') or item.get('input') or ''})"
    if kind in ("function_call_output", "custom_tool_call_output"):
        output = item.get("output")
        return output if isinstance(output, str) else _content_text(output)
    if kind == "reasoning":
        return " ".join(str(s.get("text", "")) for s in item.get("summary") or [] if isinstance(s, dict))
    return ""
