"""Canonical events as ``chat.completion.chunk`` objects: an explicit state machine."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from switchyard.codecs.openai_chat.wire import error_body, finish_out, logprobs_out, usage_out
from switchyard.core.events import (
    ArgumentsDelta,
    BlockStart,
    Event,
    Failure,
    Finish,
    ReasoningDelta,
    RefusalDelta,
    Start,
    TextDelta,
    UsageReport,
)
from switchyard.core.usage import Usage


@dataclass(slots=True)
class _ChoiceState:
    started: bool = False
    tool_index: dict[int, int] = field(default_factory=dict)  # block index -> tool call index


class ChunkEncoder:
    """Feed canonical events, get chunk dicts to send as SSE ``data:`` lines.

    The role chunk of a choice goes out before its first content; with ``include_usage``
    every chunk carries ``usage: null`` and ``close()`` adds the usage chunk (empty
    ``choices``). A ``Failure`` yields one ``{"error": {...}}`` dict and ends the stream.
    The ``[DONE]`` line is the surface's job."""

    def __init__(self, *, id: str, model: str, created: int, include_usage: bool) -> None:
        self.id = id
        self.model = model
        self.created = created
        self.include_usage = include_usage
        self._choices: dict[int, _ChoiceState] = {}
        self._usage = Usage()
        self._done = False

    def feed(self, event: Event) -> list[dict[str, Any]]:
        if self._done:
            return []
        match event:
            case Start():
                return self._open(0)
            case BlockStart(kind="tool_call", index=i, choice=c, call_id=call_id, name=name):
                state = self._state(c)
                state.tool_index[i] = position = len(state.tool_index)
                call = {"index": position, "id": call_id or "", "type": "function",
                        "function": {"name": name or "", "arguments": ""}}
                return [*self._open(c), self._chunk(c, {"tool_calls": [call]})]
            case BlockStart(choice=c):
                return self._open(c)
            case TextDelta(text=text, choice=c, logprobs=lp) if text or lp:
                logprobs = {"content": logprobs_out(lp), "refusal": None} if lp else None
                return [*self._open(c), self._chunk(c, {"content": text}, logprobs=logprobs)]
            case ReasoningDelta(text=text, choice=c) if text:
                return [*self._open(c), self._chunk(c, {"reasoning_content": text})]
            case RefusalDelta(text=text, choice=c) if text:
                return [*self._open(c), self._chunk(c, {"refusal": text})]
            case ArgumentsDelta(index=i, arguments=args, choice=c) if args:
                position = self._state(c).tool_index.get(i, 0)
                call = {"index": position, "function": {"arguments": args}}
                return [*self._open(c), self._chunk(c, {"tool_calls": [call]})]
            case UsageReport(usage=usage):
                self._usage = usage
            case Finish(reason=reason, choice=c):
                return [*self._open(c), self._chunk(c, {}, finish_reason=finish_out(reason))]
            case Failure(error=error):
                self._done = True
                return [error_body(error)]
        return []

    def close(self) -> list[dict[str, Any]]:
        if self._done:
            return []
        self._done = True
        if not self.include_usage:
            return []
        return [self._envelope([], usage=usage_out(self._usage))]

    def _state(self, choice: int) -> _ChoiceState:
        return self._choices.setdefault(choice, _ChoiceState())

    def _open(self, choice: int) -> list[dict[str, Any]]:
        state = self._state(choice)
        if state.started:
            return []
        state.started = True
        return [self._chunk(choice, {"role": "assistant", "content": ""})]

    def _chunk(
        self,
        choice: int,
        delta: dict[str, Any],
        *,
        finish_reason: str | None = None,
        logprobs: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        return self._envelope([{
            "index": choice,
            "delta": delta,
            "logprobs": logprobs,
            "finish_reason": finish_reason,
        }])

    def _envelope(
        self, choices: list[dict[str, Any]], usage: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        chunk: dict[str, Any] = {
            "id": self.id,
            "object": "chat.completion.chunk",
            "created": self.created,
            "model": self.model,
            "choices": choices,
        }
        if self.include_usage:
            chunk["usage"] = usage
        return chunk
