"""An Anthropic ``message`` body (non-streaming answer) → canonical events.

Content blocks Switchyard cannot carry (server tool calls and results) are skipped;
block indices stay Anthropic's, so they may have gaps.
"""

from __future__ import annotations

import json
from typing import Any

from switchyard.codecs.anthropic_messages.wire import STOP_TO_FINISH, usage_from_wire
from switchyard.core.events import (
    ArgumentsDelta,
    BlockStart,
    BlockStop,
    Event,
    Finish,
    ReasoningDelta,
    SignatureDelta,
    Start,
    TextDelta,
    UsageReport,
)


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
            events += [*inner, BlockStop(index)]
    events.append(UsageReport(usage))
    events.append(finish(body.get("stop_reason"), body.get("stop_sequence")))
    return events
