"""Upstream ``chat.completion.chunk`` objects to canonical events: a state machine.

OpenAI-style streams are flat deltas; this synthesizes blocks. One block per choice
is open at a time: a delta of another kind (or another tool call) closes it. Tool-call
arguments that arrive for a call already closed (no known server interleaves them) are
dropped."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from switchyard.codecs.openai_chat.response_in import reasoning_text
from switchyard.codecs.openai_chat.wire import error_from_body, finish_in, logprobs_in, usage_in
from switchyard.core.errors import ErrorKind, SwitchyardError
from switchyard.core.events import (
    ArgumentsDelta,
    BlockKind,
    BlockStart,
    BlockStop,
    Event,
    Failure,
    Finish,
    ReasoningDelta,
    RefusalDelta,
    Start,
    TextDelta,
    UsageReport,
)

log = logging.getLogger(__name__)


@dataclass(slots=True)
class _Choice:
    index: int
    next_block: int = 0
    open_block: int | None = None
    open_kind: BlockKind | None = None
    open_tool: int | None = None
    tools: dict[int, int] = field(default_factory=dict)  # upstream tool index -> block index
    finished: bool = False


class ChunkDecoder:
    """``feed`` each parsed chunk; ``close`` at end of stream.

    ``close`` ends each choice still open with ``Finish("stop")`` (the upstream never
    sent a ``finish_reason``), or yields a ``Failure`` if the stream carried no chunk."""

    def __init__(self) -> None:
        self._started = False
        self._failed = False
        self._choices: dict[int, _Choice] = {}

    def feed(self, chunk: object) -> list[Event]:
        if self._failed:
            return []
        if not isinstance(chunk, dict) or chunk.get("error") is not None:
            self._failed = True
            return [Failure(error_from_body(chunk))]
        events: list[Event] = []
        if not self._started:
            self._started = True
            rid, model = chunk.get("id"), chunk.get("model")
            events.append(Start(id=rid if isinstance(rid, str) else None,
                                model=model if isinstance(model, str) else None))
        choices = chunk.get("choices")
        for position, choice in enumerate(choices if isinstance(choices, list) else []):
            if isinstance(choice, dict):
                events.extend(self._choice(choice, position))
        if isinstance(chunk.get("usage"), dict):
            events.append(UsageReport(usage_in(chunk["usage"])))
        return events

    def close(self) -> list[Event]:
        if self._failed:
            return []
        if not self._started:
            self._failed = True
            return [Failure(SwitchyardError(ErrorKind.UPSTREAM,
                                            "The upstream stream ended without any data."))]
        events: list[Event] = []
        for state in self._choices.values():
            if not state.finished:
                events += self._stop(state)
                events.append(Finish(reason="stop", choice=state.index))
                state.finished = True
        return events

    def _choice(self, choice: dict[str, Any], position: int) -> list[Event]:
        index = choice.get("index")
        c = index if isinstance(index, int) else position
        state = self._choices.setdefault(c, _Choice(c))
        if state.finished:
            return []
        raw_delta = choice.get("delta")
        delta: dict[str, Any] = raw_delta if isinstance(raw_delta, dict) else {}
        events: list[Event] = []
        reasoning = reasoning_text(delta)
        if reasoning:
            events += self._ensure(state, "reasoning")
            events.append(ReasoningDelta(state.open_block or 0, reasoning, choice=c))
        content = delta.get("content")
        if isinstance(content, str) and content:
            events += self._ensure(state, "text")
            events.append(TextDelta(state.open_block or 0, content, logprobs=logprobs_in(choice),
                                    choice=c))
        refusal = delta.get("refusal")
        if isinstance(refusal, str) and refusal:
            events += self._ensure(state, "refusal")
            events.append(RefusalDelta(state.open_block or 0, refusal, choice=c))
        calls = delta.get("tool_calls")
        if isinstance(delta.get("function_call"), dict):
            calls = [{"index": 0, "function": delta["function_call"]}]
        for k, call in enumerate(calls if isinstance(calls, list) else []):
            if isinstance(call, dict):
                events += self._tool(state, call, k)
        if choice.get("finish_reason") is not None:
            events += self._stop(state)
            events.append(Finish(reason=finish_in(choice["finish_reason"]), choice=c))
            state.finished = True
        return events

    def _tool(self, state: _Choice, call: dict[str, Any], position: int) -> list[Event]:
        raw_index, raw_fn = call.get("index"), call.get("function")
        tidx: int = raw_index if isinstance(raw_index, int) else position
        fn: dict[str, Any] = raw_fn if isinstance(raw_fn, dict) else {}
        events: list[Event] = []
        if tidx not in state.tools:
            events += self._stop(state)
            call_id, name = call.get("id"), fn.get("name")
            block = self._start(state, "tool_call")
            state.open_tool = tidx
            state.tools[tidx] = block
            events.append(BlockStart(
                block, "tool_call",
                call_id=call_id if isinstance(call_id, str) and call_id
                else f"call_{state.index}_{tidx}",
                name=name if isinstance(name, str) else "",
                choice=state.index,
            ))
        arguments = fn.get("arguments")
        if isinstance(arguments, str) and arguments:
            if state.open_tool == tidx:
                events.append(ArgumentsDelta(state.tools[tidx], arguments, choice=state.index))
            else:
                log.warning("dropping arguments for closed tool call %s", tidx)
        return events

    def _ensure(self, state: _Choice, kind: BlockKind) -> list[Event]:
        if state.open_kind == kind:
            return []
        events = self._stop(state)
        events.append(BlockStart(self._start(state, kind), kind, choice=state.index))
        return events

    @staticmethod
    def _start(state: _Choice, kind: BlockKind) -> int:
        block = state.next_block
        state.next_block += 1
        state.open_block, state.open_kind, state.open_tool = block, kind, None
        return block

    @staticmethod
    def _stop(state: _Choice) -> list[Event]:
        if state.open_block is None:
            return []
        block = state.open_block
        state.open_block = state.open_kind = state.open_tool = None
        return [BlockStop(block, choice=state.index)]
