"""Conversation items: a client's ``item`` checked and completed into the GA item shape
(``object: realtime.item``, an id, a status), and items turned into canonical items for a
model turn. Audio content reaches a model as its transcript."""

from __future__ import annotations

from typing import Any

from switchyard.codecs.openai_chat.fields import arr, join, obj, one_of, opt_str, req_str
from switchyard.core.errors import invalid
from switchyard.core.items import FunctionCall, FunctionCallOutput, ImagePart, Item, Message, Part, TextPart

_CONTENT = {"user": ("input_text", "input_audio", "input_image"), "system": ("input_text",),
            "assistant": ("output_text", "output_audio")}
_PREFIX = {"message": "item_", "function_call": "item_", "function_call_output": "item_"}


def _content(raw: object, role: str, path: str) -> list[dict[str, Any]]:
    parts: list[dict[str, Any]] = []
    for i, entry in enumerate(arr(raw, path)):
        here = join(path, i)
        part = obj(entry, here)
        kind = one_of(req_str(part, "type", here), _CONTENT[role], join(here, "type"))
        if kind in ("input_text", "output_text"):
            parts.append({"type": kind, "text": req_str(part, "text", here)})
        elif kind == "input_image":
            url = req_str(part, "image_url", here)
            if not url.startswith("data:image/"):
                raise invalid(f"Invalid '{join(here, 'image_url')}': expected a base64 data URL (data:image/...).",
                              join(here, "image_url"), "invalid_value")
            detail = opt_str(part, "detail", here) or "auto"
            parts.append({"type": kind, "image_url": url, "detail": one_of(detail, ("auto", "low", "high"),
                                                                             join(here, "detail"))})
        else:  # input_audio / output_audio: the transcript is what a model sees
            transcript = opt_str(part, "transcript", here)
            if opt_str(part, "audio", here) is not None and transcript is None:
                raise invalid(f"Invalid '{here}': audio content needs its 'transcript' here (audio given in an "
                              "item is not transcribed; send it through input_audio_buffer.append).",
                              join(here, "transcript"), "invalid_value")
            parts.append({"type": kind, "transcript": transcript})
    return parts


def decode_item(raw: dict[str, Any], new_id: str, path: str = "item") -> dict[str, Any]:
    """The item as stored and sent back, with ``new_id`` when the client gave no ``id``."""
    kind = one_of(req_str(raw, "type", path), tuple(_PREFIX), join(path, "type"))
    item_id = opt_str(raw, "id", path) or new_id
    if len(item_id) > 64:
        raise invalid(f"Invalid '{join(path, 'id')}': at most 64 characters.", join(path, "id"), "invalid_value")
    head: dict[str, Any] = {"id": item_id, "type": kind, "object": "realtime.item", "status": "completed"}
    if kind == "message":
        role = one_of(req_str(raw, "role", path), tuple(_CONTENT), join(path, "role"))
        return {**head, "role": role, "content": _content(raw.get("content"), role, join(path, "content"))}
    if kind == "function_call":
        return {**head, "call_id": req_str(raw, "call_id", path), "name": req_str(raw, "name", path),
                "arguments": opt_str(raw, "arguments", path) or ""}
    return {**head, "call_id": req_str(raw, "call_id", path), "output": req_str(raw, "output", path)}


def user_audio_item(item_id: str) -> dict[str, Any]:
    """The user message a committed input audio buffer becomes (its transcript comes later)."""
    return {"id": item_id, "type": "message", "object": "realtime.item", "status": "completed", "role": "user",
            "content": [{"type": "input_audio", "transcript": None}]}


def _part(part: dict[str, Any], path: str) -> Part | None:
    kind = part["type"]
    if kind in ("input_text", "output_text"):
        return TextPart(part["text"])
    if kind == "input_image":
        url: str = part["image_url"]
        media_type = url[5:url.index(";")] if ";" in url else None
        return ImagePart(data=url.split(",", 1)[-1], media_type=media_type, detail=part.get("detail"), path=path)
    transcript = part.get("transcript")
    return TextPart(transcript) if transcript else None


def to_canonical(items: list[dict[str, Any]]) -> list[Item]:
    out: list[Item] = []
    for n, item in enumerate(items):
        if item["type"] == "function_call":
            out.append(FunctionCall(call_id=item["call_id"], name=item["name"], arguments=item["arguments"] or "{}"))
        elif item["type"] == "function_call_output":
            out.append(FunctionCallOutput(call_id=item["call_id"], output=[TextPart(item["output"])]))
        else:
            parts = [p for i, c in enumerate(item["content"])
                     if (p := _part(c, f"item[{n}].content[{i}]")) is not None]
            if parts:
                out.append(Message(role=item["role"], content=parts))
    return out
