"""One model turn scripted on a fake upstream in its vendor's wire format, answered whole or
streamed as Switchyard's request asks (which depends on the client's call and on the
backend, so the tests do not guess it)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from tests.fakes import anthropic_wire, openai_wire, responses_wire
from tests.fakes.upstream import Script, by_stream

BACKENDS = ("openai", "responses", "anthropic")


@dataclass(frozen=True)
class Turn:
    text: str | None = None
    tools: tuple[tuple[str, str, dict[str, Any]], ...] = ()  # (call id, tool name, input) each
    thinking: tuple[str, str] | None = None  # (text, signature)


def scripted(backend: str, turn: Turn) -> Script:
    if backend == "openai":
        return _chat(turn)
    if backend == "anthropic":
        return _messages(turn)
    if backend == "responses":
        return _responses(turn)
    raise ValueError(backend)


def _chat(turn: Turn) -> Script:
    calls = [(cid, name, json.dumps(args)) for cid, name, args in turn.tools] or None
    reasoning = turn.thinking[0] if turn.thinking else None
    reply = openai_wire.completion(turn.text, tool_calls=calls, reasoning=reasoning,
                                   finish_reason="tool_calls" if calls else "stop")
    text = turn.text or ""
    pieces = [text[: len(text) // 2], text[len(text) // 2:]] if text else []
    stream = openai_wire.stream(pieces, reasoning=[reasoning] if reasoning else None,
                                tool_calls=[(c, n, [a[:5], a[5:]]) for c, n, a in calls or []])
    return by_stream(reply, stream)


def _messages(turn: Turn) -> Script:
    blocks = []
    if turn.thinking:
        blocks.append(anthropic_wire.thinking(*turn.thinking))
    if turn.text is not None:
        blocks.append(anthropic_wire.text(turn.text))
    blocks += [anthropic_wire.tool_use(*call) for call in turn.tools]
    reason = "tool_use" if turn.tools else "end_turn"
    return by_stream(anthropic_wire.message(blocks, stop_reason=reason),
                    anthropic_wire.stream(blocks, stop_reason=reason))


def _responses(turn: Turn) -> Script:
    items = []
    if turn.thinking:
        items.append(responses_wire.reasoning(*turn.thinking))
    if turn.text is not None:
        items.append(responses_wire.message(turn.text))
    for n, (cid, name, args) in enumerate(turn.tools):
        items.append({**responses_wire.function_call(cid, name, json.dumps(args)), "id": f"fc_up_{n}"})
    return by_stream(responses_wire.reply(*items), responses_wire.stream(*items))
