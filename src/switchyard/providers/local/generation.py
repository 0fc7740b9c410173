"""One choice's tokens to canonical events: text, stops, tool calls, logprobs, finish.

The scheduler samples; a ``Generation`` turns each sampled token into events and says
whether the choice goes on. Token pieces come from a shared cache, so a token costs a
dict lookup and an incremental UTF-8 decode.
"""

from __future__ import annotations

import codecs
import secrets
from collections.abc import Callable
from enum import Enum

import numpy as np

from switchyard.core.events import (
    ArgumentsDelta,
    BlockStart,
    BlockStop,
    Event,
    Finish,
    FinishReason,
    TextDelta,
    TokenLogprob,
    TopLogprob,
)
from switchyard.providers.local.plan import Plan
from switchyard.providers.local.stops import StopFilter
from switchyard.providers.local.toolparse import (
    ArgsDelta,
    CallEnd,
    CallStart,
    Output,
    Text,
    ToolCallParser,
)

Piece = Callable[[int], bytes]


class Step(Enum):
    GO_ON = "go_on"
    DONE = "done"
    CONSTRAIN = "constrain"  # the model opened a tool call: redo it under the tools' grammar


class Generation:
    def __init__(self, plan: Plan, emit: Callable[[Event], None], piece: Piece) -> None:
        self.plan = plan
        self._piece = piece
        self._blocks = _Blocks(plan.choice, emit)
        self._emit = emit
        self._parser = ToolCallParser({t.name for t in plan.tools}) if plan.tools else None
        self._stops = StopFilter(plan.stops) if plan.stops else None
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self.generated = 0
        self.constrained = plan.grammar is not None
        self._reason: FinishReason = "length"
        if self._parser is not None and plan.prefill:
            self._blocks.add(self._parser.feed(plan.prefill), None)

    def feed(self, token: int, eog: bool, logprobs: np.ndarray | None) -> Step:
        if eog:
            self._reason = "stop"
            return Step.DONE
        self.generated += 1
        text = self._decoder.decode(self._piece(token))
        if self._stops is not None:
            text = self._stops.feed(text)
        outputs = self._split(text)
        self._blocks.add(outputs, None if logprobs is None else self._logprob(token, logprobs))
        if self._stops is not None and self._stops.matched is not None:
            self._reason = "stop"
            return Step.DONE
        if self.plan.single_call and any(isinstance(o, CallEnd) for o in outputs):
            return Step.DONE
        if self.generated >= self.plan.max_tokens:
            return Step.DONE
        if not self.constrained and self.plan.strict_tools and self._parser is not None and self._parser.in_call:
            self.constrained = True
            self._blocks.add(self._parser.feed("\n"), None)
            return Step.CONSTRAIN
        return Step.GO_ON

    def finish(self) -> None:
        matched = self._stops.matched if self._stops is not None else None
        tail = ""
        if matched is None:
            tail = self._decoder.decode(b"", final=True)
            if self._stops is not None:
                tail = self._stops.feed(tail) + self._stops.finish()
        parser = self._parser
        self._blocks.add(self._split(tail) + (parser.finish() if parser is not None else []), None)
        self._blocks.close()
        reason = "tool_calls" if parser is not None and parser.calls else self._reason
        self._emit(Finish(reason=reason, stop_sequence=matched, choice=self.plan.choice))

    def _split(self, text: str) -> list[Output]:
        if self._parser is not None:
            return self._parser.feed(text)
        return [Text(text)] if text else []

    def _logprob(self, token: int, logprobs: np.ndarray) -> TokenLogprob:
        piece = self._piece(token)
        entry = TokenLogprob(token=piece.decode("utf-8", errors="replace"), logprob=float(logprobs[token]),
                             bytes=list(piece))
        top = self.plan.top_logprobs
        if top > 0:
            ids = np.argpartition(-logprobs, top)[:top]
            for i in sorted(ids, key=lambda i: -logprobs[i]):
                p = self._piece(int(i))
                entry.top.append(TopLogprob(p.decode("utf-8", errors="replace"), float(logprobs[i]), list(p)))
        return entry


class _Blocks:
    """Parser outputs to numbered content blocks for one choice."""

    def __init__(self, choice: int, emit: Callable[[Event], None]) -> None:
        self._choice = choice
        self._emit = emit
        self._next = 0
        self._open: str | None = None
        self._pending_logprobs: list[TokenLogprob] = []

    def add(self, outputs: list[Output], logprob: TokenLogprob | None) -> None:
        if logprob is not None:
            self._pending_logprobs.append(logprob)
        for out in outputs:
            if isinstance(out, Text):
                if self._open != "text":
                    self._start("text")
                lp, self._pending_logprobs = self._pending_logprobs or None, []
                self._emit(TextDelta(self._next - 1, out.text, logprobs=lp, choice=self._choice))
            elif isinstance(out, CallStart):
                self._start("tool_call", name=out.name)
            elif isinstance(out, ArgsDelta):
                self._emit(ArgumentsDelta(self._next - 1, out.text, choice=self._choice))
            elif isinstance(out, CallEnd):
                self.close()
        if self._open == "tool_call":
            self._pending_logprobs = []

    def _start(self, kind: str, name: str | None = None) -> None:
        self.close()
        call_id = f"call_{secrets.token_hex(12)}" if kind == "tool_call" else None
        self._emit(
            BlockStart(self._next, kind, call_id=call_id, name=name, choice=self._choice)  # type: ignore[arg-type]
        )
        self._open = kind
        self._next += 1

    def close(self) -> None:
        if self._open is not None:
            self._emit(BlockStop(self._next - 1, choice=self._choice))
            self._open = None
