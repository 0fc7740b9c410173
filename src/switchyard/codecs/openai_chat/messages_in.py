"""Chat ``messages`` (client side) to canonical items."""

from __future__ import annotations

from typing import Any

from switchyard.codecs.openai_chat.fields import (
    arr,
    join,
    missing,
    obj,
    one_of,
    opt_str,
    req_str,
    wrong_type,
)
from switchyard.codecs.openai_chat.wire import parse_data_url
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
    RefusalPart,
    TextPart,
)

ROLES = ("system", "developer", "user", "assistant", "tool", "function")


def decode_messages(value: object) -> list[Item]:
    messages = arr(value, "messages")
    if not messages:
        raise invalid("Invalid 'messages': empty array. Expected an array with minimum length 1.",
                      "messages", "empty_array")
    items: list[Item] = []
    legacy_calls: dict[str, list[str]] = {}
    for i, raw in enumerate(messages):
        path = f"messages[{i}]"
        msg = obj(raw, path)
        role = one_of(req_str(msg, "role", path), ROLES, f"{path}.role")
        if role in ("system", "developer"):
            parts = _parts(msg.get("content"), f"{path}.content", ("text",), required=True)
            items.append(Message(role="system" if role == "system" else "developer", content=parts,
                                 name=opt_str(msg, "name", path)))
        elif role == "user":
            parts = _parts(msg.get("content"), f"{path}.content", ("text", "image_url", "file",
                                                                  "input_audio"), required=True)
            items.append(Message(role="user", content=parts, name=opt_str(msg, "name", path)))
        elif role == "assistant":
            items.extend(_assistant(msg, path, i, legacy_calls))
        elif role == "tool":
            call_id = req_str(msg, "tool_call_id", path)
            output = _parts(msg.get("content"), f"{path}.content", ("text",), required=True)
            items.append(FunctionCallOutput(call_id=call_id, output=output))
        else:
            name = req_str(msg, "name", path)
            pending = legacy_calls.get(name)
            call_id = pending.pop(0) if pending else f"call_{name}"
            output = _parts(msg.get("content"), f"{path}.content", ("text",), required=True)
            items.append(FunctionCallOutput(call_id=call_id, output=output))
    return items


def _assistant(
    msg: dict[str, Any], path: str, i: int, legacy_calls: dict[str, list[str]]
) -> list[Item]:
    items: list[Item] = []
    reasoning = opt_str(msg, "reasoning_content", path)
    if reasoning is None and isinstance(msg.get("reasoning"), str):
        reasoning = msg["reasoning"]
    if reasoning:
        items.append(Reasoning(text=reasoning))
    content = msg.get("content")
    parts = _parts(content, f"{path}.content", ("text", "refusal"), required=False)
    refusal = opt_str(msg, "refusal", path)
    if refusal:
        parts.append(RefusalPart(refusal))
    calls = _tool_calls(msg, path)
    function_call = msg.get("function_call")
    if function_call is not None:
        fc = obj(function_call, f"{path}.function_call")
        name = req_str(fc, "name", f"{path}.function_call")
        call_id = f"call_{i}_{name}"
        legacy_calls.setdefault(name, []).append(call_id)
        arguments = opt_str(fc, "arguments", f"{path}.function_call") or ""
        calls.append(FunctionCall(call_id=call_id, name=name, arguments=arguments))
    has_text = any(not isinstance(p, TextPart) or p.text for p in parts)
    if has_text or (not calls and content is not None):
        items.append(Message(role="assistant", content=parts, name=opt_str(msg, "name", path)))
    elif not calls and not items:
        raise missing(f"{path}.content")
    items.extend(calls)
    return items


def _tool_calls(msg: dict[str, Any], path: str) -> list[Item]:
    raw = msg.get("tool_calls")
    if raw is None:
        return []
    calls: list[Item] = []
    for j, call in enumerate(arr(raw, f"{path}.tool_calls")):
        cpath = f"{path}.tool_calls[{j}]"
        call = obj(call, cpath)
        kind = opt_str(call, "type", cpath) or "function"
        if kind != "function":
            raise unsupported(f"{cpath}.type", f"only 'function' tool calls are supported, got "
                                               f"'{kind}'")
        fn = obj(call.get("function"), f"{cpath}.function")
        calls.append(
            FunctionCall(
                call_id=req_str(call, "id", cpath),
                name=req_str(fn, "name", f"{cpath}.function"),
                arguments=opt_str(fn, "arguments", f"{cpath}.function") or "",
            )
        )
    return calls


def _parts(value: object, path: str, allowed: tuple[str, ...], *, required: bool) -> list[Part]:
    if value is None:
        if required:
            raise missing(path)
        return []
    if isinstance(value, str):
        return [TextPart(value)]
    if not isinstance(value, list):
        raise wrong_type(path, "a string or an array of content parts", value)
    return [_part(raw, join(path, j), allowed) for j, raw in enumerate(value)]


def _part(raw: object, path: str, allowed: tuple[str, ...]) -> Part:
    part = obj(raw, path)
    kind = one_of(req_str(part, "type", path), allowed, f"{path}.type")
    if kind == "text":
        return TextPart(req_str(part, "text", path))
    if kind == "refusal":
        return RefusalPart(req_str(part, "refusal", path))
    if kind == "image_url":
        image = _image(obj(part.get("image_url"), f"{path}.image_url"), f"{path}.image_url")
        image.path = path
        return image
    if kind == "file":
        file = _file(obj(part.get("file"), f"{path}.file"), f"{path}.file")
        file.path = path
        return file
    raise unsupported(f"{path}.type", "audio input is not supported on this server")


def _image(image: dict[str, Any], path: str) -> ImagePart:
    url = req_str(image, "url", path)
    detail = opt_str(image, "detail", path)
    if detail is not None:
        one_of(detail, ("auto", "low", "high"), f"{path}.detail")
    if url.startswith("data:"):
        parsed = parse_data_url(url)
        if parsed is None or not (parsed[0] or "").startswith("image/"):
            raise invalid(
                f"Invalid '{path}.url': expected a base64-encoded data URL with an image media "
                "type, e.g. 'data:image/jpeg;base64,...'.",
                f"{path}.url",
                "invalid_image_url",
            )
        return ImagePart(data=parsed[1], media_type=parsed[0], detail=detail)
    if not url.startswith(("http://", "https://")):
        raise invalid(f"Invalid '{path}.url': expected an http(s) URL or a data URL.",
                      f"{path}.url", "invalid_image_url")
    return ImagePart(url=url, detail=detail)


def _file(file: dict[str, Any], path: str) -> FilePart:
    file_id = opt_str(file, "file_id", path)
    file_data = opt_str(file, "file_data", path)
    filename = opt_str(file, "filename", path)
    if file_id is None and file_data is None:
        raise missing(f"{path}.file_data")
    if file_data is None:
        return FilePart(file_id=file_id, filename=filename)
    parsed = parse_data_url(file_data)
    if parsed is not None:
        media_type, data = parsed
    else:
        media_type, data = None, file_data
    if media_type is None and filename and filename.lower().endswith(".pdf"):
        media_type = "application/pdf"
    return FilePart(data=data, media_type=media_type, file_id=file_id, filename=filename)
