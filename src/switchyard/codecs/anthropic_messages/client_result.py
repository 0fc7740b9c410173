"""A canonical ``Result`` → the Anthropic ``message`` object a client receives."""

from __future__ import annotations

import json
import logging
from typing import Any

from switchyard.codecs.anthropic_messages.wire import stop_reason, usage_to_wire
from switchyard.core.items import FunctionCall, Item, Message, Reasoning, RefusalPart, TextPart
from switchyard.core.result import Choice, Result
from switchyard.core.tool_items import VendorItem

log = logging.getLogger(__name__)

VENDOR = "anthropic"
"""``VendorItem.vendor`` of Anthropic content blocks (server tool calls and results)."""


def tool_input(arguments: str) -> dict[str, Any]:
    """Arguments as the ``input`` object Anthropic requires. Empty or broken JSON (or
    JSON that is not an object) becomes ``{}``: clients validate ``input`` against the
    tool's schema and report the failure back to the model, which is the useful path."""
    if not arguments.strip():
        return {}
    try:
        value = json.loads(arguments)
    except ValueError:
        log.warning("tool call arguments are not valid JSON; sending input {}")
        return {}
    return value if isinstance(value, dict) else {}


def text_block(text: str) -> dict[str, Any]:
    """Anthropic leaves ``citations`` out when there are none (clients reject ``null``)."""
    return {"type": "text", "text": text}


def tool_use_block(call_id: str, name: str, input_: dict[str, Any]) -> dict[str, Any]:
    return {"type": "tool_use", "id": call_id, "name": name, "input": input_,
            "caller": {"type": "direct"}}


def reasoning_block(item: Reasoning) -> dict[str, Any]:
    """Opaque content without a signature is redacted thinking; the rest is thinking."""
    if item.encrypted is not None and item.signature is None:
        return {"type": "redacted_thinking", "data": item.encrypted}
    text = item.text or "\n\n".join(item.summary)
    return {"type": "thinking", "thinking": text, "signature": item.signature or ""}


def _blocks(item: Item) -> list[dict[str, Any]]:
    if isinstance(item, VendorItem):
        return [dict(item.data)] if item.vendor == VENDOR else []
    if isinstance(item, Reasoning):
        return [reasoning_block(item)]
    if isinstance(item, FunctionCall):
        return [tool_use_block(item.call_id, item.name, tool_input(item.arguments))]
    if isinstance(item, Message):
        out = []
        for part in item.content:
            if isinstance(part, TextPart):
                out.append(text_block(part.text))
            elif isinstance(part, RefusalPart):
                out.append(text_block(part.refusal))
        return out
    return []


def encode_result(result: Result, *, id: str, model: str) -> dict[str, Any]:
    """Only choice 0 is sent: Anthropic has no ``n``."""
    choice = result.choices[0] if result.choices else Choice(index=0)
    content = [block for item in choice.items for block in _blocks(item)]
    reason = stop_reason(choice.finish_reason, choice.stop_sequence)
    return {
        "id": id,
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": content,
        "stop_reason": reason,
        "stop_sequence": choice.stop_sequence if reason == "stop_sequence" else None,
        "stop_details": None,
        "container": None,
        "usage": usage_to_wire(result.usage),
    }
