"""A message to add to a thread: ``role``, ``content`` (a string or text /
``image_file`` / ``image_url`` parts), ``attachments`` and ``metadata``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from switchyard.codecs.metadata import decode_metadata
from switchyard.codecs.openai_assistants.common import known_fields
from switchyard.codecs.openai_chat.fields import arr, join, no_nul, obj, opt_str, req_str
from switchyard.core.errors import invalid

FIELDS = ("role", "content", "attachments", "metadata")
ROLES = ("user", "assistant")
DETAILS = ("auto", "low", "high")
ATTACHMENT_TOOLS = ("code_interpreter", "file_search")
MAX_ATTACHMENTS = 20


@dataclass(slots=True)
class Attachment:
    file_id: str
    tools: list[str]  # "code_interpreter" and/or "file_search"
    path: str  # e.g. "attachments[0]", for errors


@dataclass(slots=True)
class MessageIn:
    role: str
    content: list[dict[str, Any]]  # wire content blocks as the message will show them
    attachments: list[Attachment] = field(default_factory=list)
    metadata: dict[str, str] = field(default_factory=dict)
    image_files: list[tuple[str, str]] = field(default_factory=list)  # (file_id, field) of image_file parts


def text_block(value: str, annotations: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """A wire ``text`` content block."""
    return {"type": "text", "text": {"value": value, "annotations": list(annotations or [])}}


def decode_message(raw: object, path: str = "") -> MessageIn:
    """One ``CreateMessageRequest`` (``path`` prefixes field names, e.g. ``messages[0]``)."""
    body = obj(raw, path or "body")
    known_fields(body, FIELDS, path)
    role = req_str(body, "role", path)
    if role not in ROLES:
        raise invalid(f"Invalid value for '{join(path, 'role')}': '{role}'. Supported values are: 'user' and "
                      "'assistant'.", join(path, "role"), "invalid_value")
    if "content" not in body:
        raise invalid(f"Missing required parameter: '{join(path, 'content')}'.", join(path, "content"),
                      "missing_required_parameter")
    out = MessageIn(role=role, content=[])
    _content(body["content"], join(path, "content"), out)
    if body.get("attachments") is not None:
        out.attachments = _attachments(body["attachments"], join(path, "attachments"))
    out.metadata = decode_metadata(body.get("metadata"), join(path, "metadata")) or {}
    return out


def _content(raw: object, path: str, out: MessageIn) -> None:
    if isinstance(raw, str):
        no_nul(raw, path)
        out.content.append(text_block(raw))
        return
    parts = arr(raw, path)
    if not parts:
        raise invalid(f"Invalid '{path}': empty array. Expected an array with minimum length 1.", path,
                      "empty_array")
    for index, part in enumerate(parts):
        out.content.append(_part(part, join(path, index), out))


def _part(raw: object, path: str, out: MessageIn) -> dict[str, Any]:
    part = obj(raw, path)
    kind = req_str(part, "type", path)
    if kind == "text":
        known_fields(part, ("type", "text"), path)
        text = req_str(part, "text", path)
        no_nul(text, f"{path}.text")
        return text_block(text)
    if kind == "image_file":
        known_fields(part, ("type", "image_file"), path)
        image = _image(part, "image_file", "file_id", path)
        out.image_files.append((image["file_id"], f"{path}.image_file.file_id"))
        return {"type": "image_file", "image_file": image}
    if kind == "image_url":
        known_fields(part, ("type", "image_url"), path)
        image = _image(part, "image_url", "url", path)
        if not image["url"].startswith(("https://", "http://", "data:image/")):
            raise invalid(f"Invalid '{path}.image_url.url': expected an http(s) URL or a data:image URL.",
                          f"{path}.image_url.url", "invalid_value")
        return {"type": "image_url", "image_url": image}
    raise invalid(f"Invalid value for '{path}.type': '{kind}'. Supported values are: 'text', 'image_file' and "
                  "'image_url'.", f"{path}.type", "invalid_value")


def _image(part: dict[str, Any], key: str, ref: str, path: str) -> dict[str, Any]:
    if part.get(key) is None:
        raise invalid(f"Missing required parameter: '{path}.{key}'.", f"{path}.{key}", "missing_required_parameter")
    inner = obj(part[key], f"{path}.{key}")
    known_fields(inner, (ref, "detail"), f"{path}.{key}")
    value = req_str(inner, ref, f"{path}.{key}")
    if not value:
        raise invalid(f"Invalid '{path}.{key}.{ref}': empty string.", f"{path}.{key}.{ref}", "empty_string")
    no_nul(value, f"{path}.{key}.{ref}")
    image: dict[str, Any] = {ref: value}
    detail = opt_str(inner, "detail", f"{path}.{key}")
    if detail is not None:
        if detail not in DETAILS:
            raise invalid(f"Invalid value for '{path}.{key}.detail': '{detail}'. Supported values are: 'auto', "
                          "'low' and 'high'.", f"{path}.{key}.detail", "invalid_value")
        image["detail"] = detail
    return image


def _attachments(raw: object, path: str) -> list[Attachment]:
    entries = arr(raw, path)
    if len(entries) > MAX_ATTACHMENTS:
        raise invalid(f"Invalid '{path}': at most {MAX_ATTACHMENTS} attachments per message.", path,
                      "array_above_max_length")
    out = []
    for index, entry in enumerate(entries):
        epath = join(path, index)
        attachment = obj(entry, epath)
        known_fields(attachment, ("file_id", "tools"), epath)
        file_id = req_str(attachment, "file_id", epath)
        if not file_id:
            raise invalid(f"Invalid '{epath}.file_id': empty string.", f"{epath}.file_id", "empty_string")
        no_nul(file_id, f"{epath}.file_id")
        tools: list[str] = []
        raw_tools = attachment.get("tools")
        if raw_tools is None:
            raise invalid(f"Missing required parameter: '{epath}.tools'.", f"{epath}.tools",
                          "missing_required_parameter")
        for j, tool in enumerate(arr(raw_tools, f"{epath}.tools")):
            tpath = f"{epath}.tools[{j}]"
            kind = req_str(obj(tool, tpath), "type", tpath)
            if kind not in ATTACHMENT_TOOLS:
                raise invalid(f"Invalid value for '{tpath}.type': '{kind}'. Supported values are: "
                              "'code_interpreter' and 'file_search'.", f"{tpath}.type", "invalid_value")
            known_fields(tool, ("type",), tpath)
            if kind not in tools:
                tools.append(kind)
        out.append(Attachment(file_id=file_id, tools=tools, path=epath))
    return out


def attachments_wire(attachments: list[Attachment]) -> list[dict[str, Any]]:
    return [{"file_id": a.file_id, "tools": [{"type": t} for t in a.tools]} for a in attachments]


