"""Create and modify bodies of ``/v1/threads``, and a message's modify body."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from switchyard.codecs.metadata import decode_metadata
from switchyard.codecs.openai_assistants.common import known_fields
from switchyard.codecs.openai_assistants.message_in import MessageIn, decode_message
from switchyard.codecs.openai_assistants.resources_in import ResourcesIn, decode_tool_resources
from switchyard.codecs.openai_chat.fields import arr
from switchyard.core.errors import invalid

MAX_MESSAGES = 1000  # the spec sets no limit; this one keeps a create to one bounded insert


@dataclass(slots=True)
class ThreadIn:
    messages: list[MessageIn] = field(default_factory=list)
    resources: ResourcesIn | None = None  # None: not given
    metadata: dict[str, str] | None = None  # None: not given


def decode_thread(body: dict[str, Any], *, create: bool, path: str = "") -> ThreadIn:
    """A thread create body (``messages`` allowed) or a modify body. ``path`` prefixes
    field names when the thread is part of a bigger body (``thread`` of create-and-run)."""
    known_fields(body, ("messages", "tool_resources", "metadata") if create else ("tool_resources", "metadata"),
                 path)
    prefix = f"{path}." if path else ""
    out = ThreadIn()
    if body.get("messages") is not None:
        messages = arr(body["messages"], f"{prefix}messages")
        if len(messages) > MAX_MESSAGES:
            raise invalid(f"Invalid '{prefix}messages': at most {MAX_MESSAGES} messages when creating a thread.",
                          f"{prefix}messages", "array_above_max_length")
        out.messages = [decode_message(m, f"{prefix}messages[{i}]") for i, m in enumerate(messages)]
    if "tool_resources" in body:
        out.resources = decode_tool_resources(body["tool_resources"], f"{prefix}tool_resources")
    if "metadata" in body and body["metadata"] is not None:
        out.metadata = decode_metadata(body["metadata"], f"{prefix}metadata") or {}
    return out


def decode_message_update(body: dict[str, Any]) -> dict[str, str] | None:
    """A message's modify body: its new ``metadata`` (None: left as it is)."""
    known_fields(body, ("metadata",))
    return decode_metadata(body.get("metadata"))
