"""A stored ``thread.message`` as a canonical ``Message`` for a model: text blocks
become text (annotations dropped), ``image_url`` an ``ImagePart``, ``image_file`` a
``FilePart`` naming the file (which ``engine/file_inputs`` inlines before the turn),
refusals ``RefusalPart``s."""

from __future__ import annotations

from typing import Any

from switchyard.core.items import FilePart, ImagePart, Message, Part, RefusalPart, Role, TextPart


def message_item(body: dict[str, Any]) -> Message:
    role: Role = "assistant" if body.get("role") == "assistant" else "user"
    parts: list[Part] = []
    for index, block in enumerate(body.get("content") or []):
        path = f"content[{index}]"
        kind = block.get("type") if isinstance(block, dict) else None
        if kind == "text":
            value = (block.get("text") or {}).get("value", "")
            if value:
                parts.append(TextPart(value))
        elif kind == "image_url":
            image = block.get("image_url") or {}
            parts.append(ImagePart(url=image.get("url"), detail=image.get("detail"), path=path))
        elif kind == "image_file":
            parts.append(FilePart(file_id=(block.get("image_file") or {}).get("file_id"), path=path))
        elif kind == "refusal":
            parts.append(RefusalPart(block.get("refusal", "")))
    return Message(role=role, content=parts)
