"""Conversation elements shared by every wire format."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from switchyard.core.tool_items import BuiltinItem, VendorItem

Role = Literal["system", "developer", "user", "assistant"]


@dataclass(slots=True)
class TextPart:
    text: str
    cache_control: dict[str, Any] | None = None


@dataclass(slots=True)
class ImagePart:
    """An image given by URL, or inline as base64 ``data`` with its media type. ``path``
    names the client's field that carried it (for errors; canonical positions do not)."""

    url: str | None = None
    data: str | None = None
    media_type: str | None = None
    detail: str | None = None
    path: str | None = field(default=None, compare=False)


@dataclass(slots=True)
class FilePart:
    """A document: inline base64 ``data``, a ``file_id``, or a ``url``; ``path`` as for
    images."""

    data: str | None = None
    media_type: str | None = None
    file_id: str | None = None
    url: str | None = None
    filename: str | None = None
    path: str | None = field(default=None, compare=False)


@dataclass(slots=True)
class RefusalPart:
    refusal: str


Part = TextPart | ImagePart | FilePart | RefusalPart


@dataclass(slots=True)
class Message:
    role: Role
    content: list[Part]
    name: str | None = None

    def text(self) -> str:
        return "".join(p.text for p in self.content if isinstance(p, TextPart))


@dataclass(slots=True)
class FunctionCall:
    call_id: str
    name: str
    arguments: str
    id: str | None = None


@dataclass(slots=True)
class FunctionCallOutput:
    call_id: str
    output: list[Part]
    is_error: bool = False

    def text(self) -> str:
        return "".join(p.text for p in self.output if isinstance(p, TextPart))


@dataclass(slots=True)
class Reasoning:
    """Model reasoning: visible ``text``, a vendor ``signature`` that must round-trip,
    or opaque ``encrypted`` content (Anthropic redacted thinking, OpenAI encrypted)."""

    text: str = ""
    signature: str | None = None
    encrypted: str | None = None
    summary: list[str] = field(default_factory=list)
    id: str | None = None


ModelItem = Message | FunctionCall | FunctionCallOutput | Reasoning
"""What every model understands."""

Item = Message | FunctionCall | FunctionCallOutput | Reasoning | BuiltinItem | VendorItem


def text_message(role: Role, text: str) -> Message:
    return Message(role=role, content=[TextPart(text)])
