"""An Anthropic ``message`` body (non-streaming answer) → canonical events.

Server tool calls and results (``server_tool_use``, ``web_search_tool_result`` ...)
come whole, as ``ItemDone`` of a vendor item, so they can go back to Anthropic; block
indices stay Anthropic's, so the blocks may have gaps.
"""

from __future__ import annotations

import json
from typing import Any

from switchyard.codecs.anthropic_messages.client_result import VENDOR
from switchyard.codecs.anthropic_messages.wire import SERVER_TOOL_BLOCKS, STOP_TO_FINISH, usage_from_wire
from switchyard.core.events import (
    ArgumentsDelta,
    BlockStart,
    BlockStop,
    Event,
    Finish,
    ItemDone,
    ReasoningDelta,
    SignatureDelta,
    Start,
    TextDelta,
    UsageReport,
)
from switchyard.core.tool_items import VendorItem


def block_events(index: int, block: dict[str, Any]) -> list[Event] | None:
    """``BlockStart`` and the deltas carrying a block's content; None for blocks we skip."""
    kind = block.get("type")
    if kind == "text":
        text = block.get("text") or ""
        return [BlockStart(index, "text"), *([TextDelta(index, text)] if text else [])]
    if kind == "thinking":
        out: list[Event] = [BlockStart(index, "reasoning")]
        if block.get("thinking"):
            out.append(ReasoningDelta(index, block["thinking"]))
        if block.get("signature"):
            out.append(SignatureDelta(index, block["signature"]))
        return out
    if kind == "redacted_thinking":
        return [BlockStart(index, "reasoning", encrypted=str(block.get("data") or ""))]
    if isinstance(kind, str) and kind in SERVER_TOOL_BLOCKS:
        return [ItemDone(VendorItem(VENDOR, dict(block)))]
    if kind == "tool_use":
        start = BlockStart(index, "tool_call", call_id=block.get("id"), name=block.get("name"))
        args = block.get("input")
        if isinstance(args, dict) and args:
            return [start, ArgumentsDelta(index, json.dumps(args, ensure_ascii=False))]
        return [start]
    return None


def finish(stop_reason: Any, stop_sequence: Any) -> Finish:
    reason = STOP_TO_FINISH.get(stop_reason, "stop") if isinstance(stop_reason, str) else "stop"
    return Finish(reason, stop_sequence if isinstance(stop_sequence, str) else None)


def decode_response(body: dict[str, Any]) -> list[Event]:
    usage = usage_from_wire(body.get("usage"))
    events: list[Event] = [Start(id=body.get("id"), model=body.get("model"), usage=usage)]
    for index, block in enumerate(body.get("content") or []):
        inner = block_events(index, block) if isinstance(block, dict) else None
        if inner is not None:
            events += inner if isinstance(inner[0], ItemDone) else [*inner, BlockStop(index)]
    events.append(UsageReport(usage))
    events.append(finish(body.get("stop_reason"), body.get("stop_sequence")))
    return events
