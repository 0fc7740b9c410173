"""Anthropic Messages SSE events → canonical events.

``message_start`` → Start (with the input usage), content blocks → BlockStart,
deltas, BlockStop (indices are Anthropic's); a server tool's block is gathered and
sent whole at its stop, as ``ItemDone`` of a vendor item; ``message_delta`` → UsageReport (merged
with the start's usage) and Finish, ``error`` → Failure. A stream that ends without
``message_stop`` fails at ``close()``.
"""

from __future__ import annotations

import contextlib
import json
from typing import Any

from switchyard.codecs.anthropic_messages.client_result import VENDOR
from switchyard.codecs.anthropic_messages.upstream_response import block_events, finish
from switchyard.codecs.anthropic_messages.wire import SERVER_TOOL_BLOCKS, error_from_wire, usage_from_wire
from switchyard.core.errors import ErrorKind, SwitchyardError
from switchyard.core.events import (
    ArgumentsDelta,
    BlockStop,
    Event,
    Failure,
    ItemDone,
    ReasoningDelta,
    SignatureDelta,
    Start,
    TextDelta,
    UsageReport,
)
from switchyard.core.tool_items import VendorItem


class StreamDecoder:
    def __init__(self) -> None:
        self._wire_usage: dict[str, Any] = {}
        self._open: set[int] = set()
        self._whole: dict[int, tuple[dict[str, Any], list[str]]] = {}
        self._finished = False
        self._done = False

    def feed(self, event_name: str, data: dict[str, Any]) -> list[Event]:
        if self._done:
            return []
        kind = event_name or str(data.get("type") or "")
        match kind:
            case "message_start":
                message = data.get("message") or {}
                self._wire_usage = dict(message.get("usage") or {})
                usage = usage_from_wire(self._wire_usage)
                return [Start(id=message.get("id"), model=message.get("model"), usage=usage)]
            case "content_block_start":
                index = data.get("index", 0)
                block = data.get("content_block") or {}
                if block.get("type") in SERVER_TOOL_BLOCKS:
                    self._whole[index] = (dict(block), [])
                    return []
                events = block_events(index, block)
                if events is None:
                    return []
                self._open.add(index)
                return events
            case "content_block_delta":
                return self._delta(data.get("index", 0), data.get("delta") or {})
            case "content_block_stop":
                index = data.get("index", 0)
                if index in self._whole:
                    return [self._whole_item(index)]
                if index not in self._open:
                    return []
                self._open.discard(index)
                return [BlockStop(index)]
            case "message_delta":
                return self._message_delta(data)
            case "message_stop":
                self._done = True
                return [] if self._finished else [finish(None, None)]
            case "error":
                self._done = True
                return [Failure(error_from_wire(data))]
        return []  # ping, and event types Anthropic may add later

    def close(self) -> list[Event]:
        if self._done:
            return []
        self._done = True
        return [Failure(SwitchyardError(
            ErrorKind.UPSTREAM, "Anthropic's stream ended before message_stop"
        ))]

    def _whole_item(self, index: int) -> ItemDone:
        block, parts = self._whole.pop(index)
        if parts:  # Anthropic's own JSON; a broken one keeps the input it started with
            with contextlib.suppress(ValueError):
                block["input"] = json.loads("".join(parts))
        return ItemDone(VendorItem(VENDOR, block))

    def _delta(self, index: int, delta: dict[str, Any]) -> list[Event]:
        if index in self._whole:
            if delta.get("type") == "input_json_delta":
                self._whole[index][1].append(delta.get("partial_json") or "")
            return []
        if index not in self._open:
            return []
        match delta.get("type"):
            case "text_delta":
                return [TextDelta(index, delta.get("text") or "")]
            case "thinking_delta":
                return [ReasoningDelta(index, delta.get("thinking") or "")]
            case "signature_delta":
                return [SignatureDelta(index, delta.get("signature") or "")]
            case "input_json_delta":
                return [ArgumentsDelta(index, delta.get("partial_json") or "")]
        return []  # citations_delta and later additions

    def _message_delta(self, data: dict[str, Any]) -> list[Event]:
        wire = data.get("usage") or {}
        self._wire_usage.update({k: v for k, v in wire.items() if v is not None})
        delta = data.get("delta") or {}
        events: list[Event] = [UsageReport(usage_from_wire(self._wire_usage))]
        if delta.get("stop_reason") is not None:
            self._finished = True
            events.append(finish(delta["stop_reason"], delta.get("stop_sequence")))
        return events
