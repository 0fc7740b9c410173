"""The canonical model request for one turn of a response."""

from __future__ import annotations

from typing import Any

from switchyard.codecs.openai_responses import items_to_canonical
from switchyard.core.items import Item, text_message
from switchyard.core.request import Request, Tool, ToolChoice


def context_items(call: Any, wire_items: list[dict[str, Any]]) -> list[Item]:
    """Stored wire items as canonical items; instructions first (never carried over)."""
    items = items_to_canonical(wire_items)
    if call.instructions:
        items.insert(0, text_message("developer", call.instructions))
    return items


def model_request(call: Any, items: list[Item], tools: list[Tool], *, tools_allowed: bool = True,
                  stream: bool = True, forced_done: bool = False) -> Request:
    """``forced_done``: the tool the client forced has run once; let the model answer now."""
    choice = call.tool_choice if tools_allowed else ToolChoice("none")
    if forced_done and choice is not None and choice.mode in ("required", "tool"):
        choice = ToolChoice("auto")
    if choice is not None and choice.mode == "tool" and not any(t.name == choice.name for t in tools):
        choice = ToolChoice("auto")
    return Request(
        model=call.model, items=list(items), tools=list(tools),
        tool_choice=choice if tools else None, parallel_tool_calls=call.parallel_tool_calls,
        temperature=call.temperature, top_p=call.top_p, max_output_tokens=call.max_output_tokens,
        logprobs=bool(call.top_logprobs), top_logprobs=call.top_logprobs or None,
        presence_penalty=call.presence_penalty, frequency_penalty=call.frequency_penalty,
        response_format=call.text_format, reasoning=call.reasoning, user=call.user, stream=stream,
    )
