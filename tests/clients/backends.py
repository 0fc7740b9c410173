"""The backends a client library is run against: an OpenAI-compatible and an
Anthropic upstream (scripted turn by turn, answered whole or streamed as the
request asks), and the embedded model (not scripted)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from tests.conftest import LOCAL, VIA_ANTHROPIC, VIA_OPENAI
from tests.fakes import anthropic_wire as aw
from tests.fakes import openai_wire as ow
from tests.fakes.upstream import Answer, FakeUpstream

UPSTREAMS = [VIA_OPENAI, VIA_ANTHROPIC]
ALL = [*UPSTREAMS, LOCAL]


def combos(variants: list[Any], on_local: list[Any]) -> list[tuple[Any, str]]:
    """``(variant, model)``: every variant on both upstreams, and the ``on_local`` ones
    on the embedded model (its slow paths, such as tool loops, are run once per library)."""
    return [(v, m) for m in UPSTREAMS for v in variants] + [(v, LOCAL) for v in on_local]


@dataclass(frozen=True)
class Say:
    text: str


@dataclass(frozen=True)
class Call:
    """One or more tool calls: ``(call id, tool name, arguments)``."""

    calls: tuple[tuple[str, str, dict[str, Any]], ...]
    thinking: str | None = None  # reasoning before the calls (signed on the Anthropic wire)

    @staticmethod
    def one(call_id: str, name: str, arguments: dict[str, Any], thinking: str | None = None) -> Call:
        return Call(((call_id, name, arguments),), thinking)


Turn = Say | Call


def _pieces(text: str) -> list[str]:
    third = max(1, len(text) // 3)
    return [p for p in (text[:third], text[third:2 * third], text[2 * third:]) if p]


def _openai(turn: Turn, body: dict[str, Any]) -> Answer:
    if isinstance(turn, Say):
        return ow.stream(_pieces(turn.text)) if body.get("stream") else ow.completion(turn.text)
    reasoning = turn.thinking
    if body.get("stream"):
        return ow.stream([], tool_calls=[(cid, name, _pieces(json.dumps(args))) for cid, name, args in turn.calls],
                         reasoning=[reasoning] if reasoning else None)
    return ow.completion(None, tool_calls=[(cid, name, json.dumps(args)) for cid, name, args in turn.calls],
                         finish_reason="tool_calls", reasoning=reasoning)


def _anthropic(turn: Turn, body: dict[str, Any]) -> Answer:
    if isinstance(turn, Say):
        blocks = [aw.text(turn.text)]
    else:
        blocks = [aw.thinking(turn.thinking, "sig-" + turn.calls[0][0])] if turn.thinking else []
        blocks += [aw.tool_use(cid, name, args) for cid, name, args in turn.calls]
    if body.get("stream"):
        return aw.stream(blocks)
    return aw.message(blocks, stop_reason="tool_use" if isinstance(turn, Call) else "end_turn")


@dataclass
class Backend:
    model: str
    fake_openai: FakeUpstream
    fake_anthropic: FakeUpstream

    @property
    def scripted(self) -> bool:
        return self.model != LOCAL

    @property
    def max_tokens(self) -> int:
        """Room for a short answer, a tool call or a small JSON object; kept small on the
        embedded model, which may otherwise ramble up to the limit."""
        return 200 if self.scripted else 64

    @property
    def fake(self) -> FakeUpstream:
        return self.fake_anthropic if self.model == VIA_ANTHROPIC else self.fake_openai

    def script(self, *turns: Turn) -> None:
        """The upstream's next answers, each rendered in the vendor's wire format,
        streamed or whole as Switchyard's request asks. No-op on the embedded model."""
        if not self.scripted:
            return
        render = _anthropic if self.model == VIA_ANTHROPIC else _openai
        for turn in turns:
            self.fake.script(lambda body, turn=turn: render(turn, body))

    def sent(self) -> list[dict[str, Any]]:
        return [r.body for r in self.fake.received]

    def tool_results(self, n: int = -1) -> list[str]:
        """The tool results the ``n``-th upstream request carried, as text."""
        body = self.sent()[n]
        if self.model == VIA_ANTHROPIC:
            out = []
            for message in body["messages"]:
                for block in message["content"] if isinstance(message["content"], list) else []:
                    if block.get("type") == "tool_result":
                        content = block.get("content", "")
                        out.append(content if isinstance(content, str)
                                   else "".join(b.get("text", "") for b in content))
            return out
        return [m["content"] if isinstance(m["content"], str) else "".join(p.get("text", "") for p in m["content"])
                for m in body["messages"] if m["role"] == "tool"]
