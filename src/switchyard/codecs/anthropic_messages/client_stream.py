"""Canonical events → Anthropic Messages SSE events, as ``(event name, data)`` pairs.

Order on the wire: ``message_start``, then per block ``content_block_start``,
``content_block_delta``..., ``content_block_stop``, then ``message_delta`` (stop
reason with the final usage) and ``message_stop``. ``Finish`` and usage are held
until ``close()`` because Anthropic sends them together.
"""

from __future__ import annotations

from typing import Any

from switchyard.codecs.anthropic_messages.client_result import (
    VENDOR,
    reasoning_block,
    text_block,
    tool_use_block,
)
from switchyard.codecs.anthropic_messages.wire import (
    error_body,
    stop_reason,
    uncached_input,
)
from switchyard.core.events import (
    ArgumentsDelta,
    BlockStart,
    BlockStop,
    Event,
    Failure,
    Finish,
    ItemDone,
    ReasoningDelta,
    RefusalDelta,
    SignatureDelta,
    Start,
    TextDelta,
    UsageReport,
)
from switchyard.core.items import Reasoning
from switchyard.core.tool_items import VendorItem
from switchyard.core.usage import Usage

SSE = tuple[str, dict[str, Any]]


def ping_event() -> SSE:
    return ("ping", {"type": "ping"})


class StreamEncoder:
    """One instance per response; ``feed`` every event, then ``close`` once."""

    def __init__(self, *, id: str, model: str) -> None:
        self.id = id
        self.model = model
        self._started = False
        self._done = False
        self._next_index = 0
        self._open: dict[int, tuple[int, str]] = {}  # canonical index → (wire index, type)
        self._usage: Usage | None = None
        self._finish: Finish | None = None
        self._saw_tool_use = False

    def feed(self, event: Event) -> list[SSE]:
        if self._done or getattr(event, "choice", 0) != 0:
            return []
        if isinstance(event, Failure):
            self._done = True
            return [("error", error_body(event.error))]
        out = [] if self._started or isinstance(event, Start) else self._start(None)
        match event:
            case Start(usage=usage):
                if not self._started:
                    out += self._start(usage)
            case BlockStart():
                out += self._block_start(event)
            case TextDelta(index=i, text=text) | RefusalDelta(index=i, text=text):
                out += self._delta(i, "text", {"type": "text_delta", "text": text})
            case ReasoningDelta(index=i, text=text):
                out += self._delta(i, "thinking", {"type": "thinking_delta", "thinking": text})
            case SignatureDelta(index=i, signature=sig):
                out += self._delta(i, "thinking", {"type": "signature_delta", "signature": sig})
            case ArgumentsDelta(index=i, arguments=args):
                delta = {"type": "input_json_delta", "partial_json": args}
                out += self._delta(i, "tool_use", delta)
            case BlockStop(index=i):
                out += self._block_stop(i)
            case UsageReport(usage=usage):
                self._usage = usage
            case Finish():
                self._finish = event
            case ItemDone(item=VendorItem(vendor=vendor, data=data)) if vendor == VENDOR:
                out += self._whole_block(data)
        return out

    def close(self) -> list[SSE]:
        if self._done:
            return []
        out = [] if self._started else self._start(None)
        for index in list(self._open):
            out += self._block_stop(index)
        self._done = True
        if self._finish is not None:
            reason = stop_reason(self._finish.reason, self._finish.stop_sequence)
        else:
            reason = "tool_use" if self._saw_tool_use else "end_turn"
        sequence = None
        if self._finish is not None and reason == "stop_sequence":
            sequence = self._finish.stop_sequence
        usage = self._usage
        delta_usage: dict[str, Any] = {
            "input_tokens": uncached_input(usage) if usage else None,
            "output_tokens": usage.output_tokens if usage else 0,
            "cache_creation_input_tokens": usage.cache_creation_input_tokens if usage else None,
            "cache_read_input_tokens": usage.cached_input_tokens if usage else None,
            "server_tool_use": None,
        }
        out.append(("message_delta", {
            "type": "message_delta",
            "delta": {"stop_reason": reason, "stop_sequence": sequence, "stop_details": None,
                      "container": None},
            "usage": delta_usage,
        }))
        out.append(("message_stop", {"type": "message_stop"}))
        return out

    def _start(self, usage: Usage | None) -> list[SSE]:
        self._started = True
        usage = usage or Usage()
        message: dict[str, Any] = {
            "id": self.id, "type": "message", "role": "assistant", "model": self.model,
            "content": [], "stop_reason": None, "stop_sequence": None, "stop_details": None,
            "container": None,
            "usage": {
                "input_tokens": uncached_input(usage),
                "output_tokens": usage.output_tokens,
                "cache_creation_input_tokens": usage.cache_creation_input_tokens,
                "cache_read_input_tokens": usage.cached_input_tokens,
                "cache_creation": None, "server_tool_use": None, "service_tier": None,
                "inference_geo": None,
            },
        }
        return [("message_start", {"type": "message_start", "message": message})]

    def _block_start(self, event: BlockStart) -> list[SSE]:
        if event.index in self._open:
            return []
        if event.kind == "reasoning":
            block = reasoning_block(Reasoning(encrypted=event.encrypted))
        elif event.kind == "tool_call":
            self._saw_tool_use = True
            block = tool_use_block(event.call_id or "", event.name or "", {})
        else:
            block = text_block("")
        wire = self._next_index
        self._next_index += 1
        self._open[event.index] = (wire, block["type"])
        return [("content_block_start",
                 {"type": "content_block_start", "index": wire, "content_block": block})]

    def _whole_block(self, block: dict[str, Any]) -> list[SSE]:
        """A block that arrived whole (a server tool's call or result): opened and closed."""
        wire = self._next_index
        self._next_index += 1
        return [("content_block_start", {"type": "content_block_start", "index": wire, "content_block": block}),
                ("content_block_stop", {"type": "content_block_stop", "index": wire})]

    def _delta(self, index: int, block_type: str, delta: dict[str, Any]) -> list[SSE]:
        opened = self._open.get(index)
        if opened is None or opened[1] != block_type:
            return []  # no such block, or a delta the block cannot carry (redacted thinking)
        return [("content_block_delta",
                 {"type": "content_block_delta", "index": opened[0], "delta": delta})]

    def _block_stop(self, index: int) -> list[SSE]:
        opened = self._open.pop(index, None)
        if opened is None:
            return []
        return [("content_block_stop", {"type": "content_block_stop", "index": opened[0]})]
