"""``response.create``'s ``response`` object: the session's settings overridden for one
response, an out-of-band response (``conversation: "none"``) and its own ``input``."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from switchyard.codecs.openai_chat.fields import arr, join, obj, opt_str
from switchyard.codecs.openai_realtime.items import decode_item
from switchyard.codecs.openai_realtime.session import (
    SessionConfig,
    _modalities,
    decode_format,
    decode_max_tokens,
    decode_tool_choice,
    decode_tools,
    decode_voice,
)
from switchyard.core.errors import invalid, unsupported

PATH = "response"


@dataclass(frozen=True, slots=True)
class ResponseParams:
    config: SessionConfig  # the session's, with this response's overrides
    in_conversation: bool = True
    input: tuple[dict[str, Any], ...] | None = None  # replaces the conversation as the model's context
    metadata: dict[str, Any] | None = None


def decode_response(raw: dict[str, Any], session: SessionConfig, new_id: Callable[[], str]) -> ResponseParams:
    changes: dict[str, Any] = {}
    if raw.get("output_modalities") is not None:
        changes["output_modalities"] = _modalities(raw["output_modalities"], join(PATH, "output_modalities"))
    instructions = opt_str(raw, "instructions", PATH)
    if instructions is not None:
        changes["instructions"] = instructions
    tools = session.tools
    if raw.get("tools") is not None:
        tools, wire = decode_tools(raw["tools"], join(PATH, "tools"))
        changes["tools"], changes["tools_wire"] = tools, wire
    if raw.get("tool_choice") is not None:
        changes["tool_choice"], changes["tool_choice_wire"] = decode_tool_choice(
            raw["tool_choice"], tools, join(PATH, "tool_choice"))
    if raw.get("max_output_tokens") is not None:
        changes["max_output_tokens"] = decode_max_tokens(raw["max_output_tokens"], join(PATH, "max_output_tokens"))
    changes.update(_audio_output(raw.get("audio")))
    if raw.get("prompt") is not None:
        raise unsupported(join(PATH, "prompt"), "stored prompts are not available here")
    conversation = raw.get("conversation", "auto")
    if conversation not in ("auto", "none"):
        raise invalid(f"Invalid value for '{join(PATH, 'conversation')}': expected 'auto' or 'none'.",
                      join(PATH, "conversation"), "invalid_value")
    metadata = raw.get("metadata")
    if metadata is not None:
        obj(metadata, join(PATH, "metadata"))
    items = _input(raw["input"], new_id) if raw.get("input") is not None else None
    return ResponseParams(dataclasses.replace(session, **changes), conversation == "auto", items, metadata)


def _audio_output(audio: object) -> dict[str, Any]:
    """``audio.output``'s ``voice`` and ``format`` for this response."""
    if audio is None:
        return {}
    output = obj(audio, join(PATH, "audio")).get("output")
    if output is None:
        return {}
    given = obj(output, join(PATH, "audio.output"))
    changes: dict[str, Any] = {}
    if given.get("voice") is not None:
        changes["voice"] = decode_voice(given["voice"], join(PATH, "audio.output.voice"))
    if given.get("format") is not None:
        changes["output_format"] = decode_format(given["format"], join(PATH, "audio.output.format"))
    return changes


def _input(raw: object, new_id: Callable[[], str]) -> tuple[dict[str, Any], ...]:
    decoded = []
    for i, entry in enumerate(arr(raw, join(PATH, "input"))):
        here = join(join(PATH, "input"), i)
        item = obj(entry, here)
        if item.get("type") == "item_reference":
            raise unsupported(join(here, "type"), "give the items themselves")
        decoded.append(decode_item(item, new_id(), here))
    return tuple(decoded)
