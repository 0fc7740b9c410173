"""A Responses API answer (streamed events, or the whole body) as canonical
events. Reasoning items are emitted whole when they are done, because their
``encrypted_content`` only arrives then."""

from __future__ import annotations

from typing import Any

from switchyard.core.errors import ErrorKind, SwitchyardError
from switchyard.core.events import (
    ArgumentsDelta,
    BlockStart,
    BlockStop,
    Event,
    Failure,
    Finish,
    FinishReason,
    ReasoningDelta,
    RefusalDelta,
    Start,
    TextDelta,
    TokenLogprob,
    TopLogprob,
    UsageReport,
)
from switchyard.core.usage import Usage

_END = ("response.completed", "response.incomplete", "response.failed")


def usage_in(raw: dict[str, Any] | None) -> Usage:
    raw = raw or {}
    return Usage(
        input_tokens=int(raw.get("input_tokens") or 0),
        output_tokens=int(raw.get("output_tokens") or 0),
        cached_input_tokens=int((raw.get("input_tokens_details") or {}).get("cached_tokens") or 0),
        reasoning_tokens=int((raw.get("output_tokens_details") or {}).get("reasoning_tokens") or 0),
    )


def logprobs_in(raw: object) -> list[TokenLogprob] | None:
    """The ``logprobs`` of an output text (or of one delta of it), if any."""
    if not isinstance(raw, list) or not raw:
        return None
    out = []
    for entry in raw:
        if not isinstance(entry, dict):
            continue
        top = [TopLogprob(t.get("token", ""), float(t.get("logprob", 0.0)), t.get("bytes"))
               for t in entry.get("top_logprobs") or [] if isinstance(t, dict)]
        out.append(TokenLogprob(entry.get("token", ""), float(entry.get("logprob", 0.0)), entry.get("bytes"), top))
    return out or None


def _reasoning_text(item: dict[str, Any]) -> str:
    parts = item.get("content") or item.get("summary") or []
    return "".join(p.get("text", "") for p in parts if isinstance(p, dict))


class EventDecoder:
    def __init__(self) -> None:
        self._next = 0
        self._blocks: dict[tuple[int, int], int] = {}  # (output_index, content_index | -1) -> block
        self._called = False
        self._ended = False
        self._started = False

    def _open(self, key: tuple[int, int]) -> int:
        self._blocks[key] = self._next
        self._next += 1
        return self._blocks[key]

    def feed(self, name: str, data: dict[str, Any]) -> list[Event]:
        kind = data.get("type") or name
        out_index = data.get("output_index", 0)
        if kind == "response.created":
            self._started = True
            response = data.get("response") or {}
            return [Start(id=response.get("id"), model=response.get("model"))]
        if kind == "response.output_item.added":
            item = data.get("item") or {}
            if item.get("type") == "function_call":
                self._called = True
                block = self._open((out_index, -1))
                return [BlockStart(block, "tool_call", call_id=item.get("call_id"), name=item.get("name"))]
            return []
        if kind == "response.content_part.added":
            part = (data.get("part") or {}).get("type")
            block = self._open((out_index, data.get("content_index", 0)))
            return [BlockStart(block, "refusal" if part == "refusal" else "text")]
        if kind == "response.output_text.delta":
            return [TextDelta(self._blocks[(out_index, data.get("content_index", 0))], data.get("delta", ""),
                              logprobs=logprobs_in(data.get("logprobs")))]
        if kind == "response.refusal.delta":
            return [RefusalDelta(self._blocks[(out_index, data.get("content_index", 0))], data.get("delta", ""))]
        if kind == "response.content_part.done":
            return [BlockStop(self._blocks[(out_index, data.get("content_index", 0))])]
        if kind == "response.function_call_arguments.delta":
            return [ArgumentsDelta(self._blocks[(out_index, -1)], data.get("delta", ""))]
        if kind == "response.output_item.done":
            return self._item_done(out_index, data.get("item") or {})
        if kind in _END:
            return self._end(kind, data.get("response") or {})
        if kind == "error":
            self._ended = True
            return [Failure(SwitchyardError(ErrorKind.UPSTREAM, f"Upstream error: {data.get('message')}"))]
        return []

    def _item_done(self, out_index: int, item: dict[str, Any]) -> list[Event]:
        if item.get("type") == "function_call" and (out_index, -1) in self._blocks:
            return [BlockStop(self._blocks[(out_index, -1)])]
        if item.get("type") == "reasoning":
            block = self._open((out_index, -2))
            events: list[Event] = [BlockStart(block, "reasoning", encrypted=item.get("encrypted_content"))]
            if text := _reasoning_text(item):
                events.append(ReasoningDelta(block, text))
            return [*events, BlockStop(block)]
        return []

    def _end(self, kind: str, response: dict[str, Any]) -> list[Event]:
        self._ended = True
        if kind == "response.failed":
            error = response.get("error") or {}
            return [Failure(SwitchyardError(ErrorKind.UPSTREAM, f"Upstream response failed: {error.get('message')}"))]
        reason: FinishReason = "tool_calls" if self._called else "stop"
        if kind == "response.incomplete":
            why = (response.get("incomplete_details") or {}).get("reason")
            reason = "content_filter" if why == "content_filter" else "length"
        return [UsageReport(usage_in(response.get("usage"))), Finish(reason)]

    def close(self) -> list[Event]:
        if self._ended:
            return []
        return [Failure(SwitchyardError(ErrorKind.UPSTREAM, "Upstream stream ended before the response finished."))]


def decode_response(body: dict[str, Any]) -> list[Event]:
    """A whole Response body as the events a stream of it would give."""
    if body.get("error"):
        message = (body["error"] or {}).get("message")
        return [Failure(SwitchyardError(ErrorKind.UPSTREAM, f"Upstream response failed: {message}"))]
    events: list[Event] = [Start(id=body.get("id"), model=body.get("model"))]
    block = 0
    called = False
    for item in body.get("output") or []:
        kind = item.get("type")
        if kind == "message":
            for part in item.get("content") or []:
                refusal = part.get("type") == "refusal"
                events.append(BlockStart(block, "refusal" if refusal else "text"))
                events.append(RefusalDelta(block, part.get("refusal", "")) if refusal
                              else TextDelta(block, part.get("text", ""), logprobs=logprobs_in(part.get("logprobs"))))
                events.append(BlockStop(block))
                block += 1
        elif kind == "function_call":
            called = True
            events += [BlockStart(block, "tool_call", call_id=item.get("call_id"), name=item.get("name")),
                       ArgumentsDelta(block, item.get("arguments") or ""), BlockStop(block)]
            block += 1
        elif kind == "reasoning":
            events.append(BlockStart(block, "reasoning", encrypted=item.get("encrypted_content")))
            if text := _reasoning_text(item):
                events.append(ReasoningDelta(block, text))
            events.append(BlockStop(block))
            block += 1
    status = body.get("status")
    reason: FinishReason = "tool_calls" if called else "stop"
    if status == "incomplete":
        why = (body.get("incomplete_details") or {}).get("reason")
        reason = "content_filter" if why == "content_filter" else "length"
    return [*events, UsageReport(usage_in(body.get("usage"))), Finish(reason)]
