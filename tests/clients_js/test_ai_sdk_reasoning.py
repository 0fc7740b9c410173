"""The AI SDK with reasoning asked for (a summary on the Responses model, thinking on the
Anthropic model): the reasoning reaches the program, and a tool loop and a chat carry on
after it (the Responses model sends earlier reasoning back by ``item_reference``)."""

from __future__ import annotations

import json

import pytest

from tests.clients_js.matrix import CASES, Backend, dumped
from tests.clients_js.node import Client
from tests.clients_js.turns import Turn

MATRIX = [pytest.param(case, id="-".join(case)) for case in CASES]
THOUGHT = "The user wants the value; I will look it up."


def _signed(n: int) -> tuple[str, str]:
    return (f"{THOUGHT} ({n})", f"sig-js-{n}")


def _shown(client: Client, backend: Backend, n: int) -> str | None:
    """The reasoning text the program should see. Chat Completions has no reasoning field
    (the SDK's chat model reads none); an OpenAI Responses upstream's reasoning is opaque
    (``encrypted_content``, not an Anthropic signature), so Anthropic clients get it as
    ``redacted_thinking``, without text."""
    if client.kind == "openai-chat" or (client.kind == "anthropic" and backend.name == "responses"):
        return None
    return f"{THOUGHT} ({n})"


@pytest.mark.parametrize("setup", MATRIX, indirect=True)
@pytest.mark.parametrize("stream", [False, True], ids=["generate", "stream"])
def test_tool_loop_after_reasoning(setup: tuple[Client, Backend], stream: bool) -> None:
    client, backend = setup
    call_id = backend.call_id(7)
    backend.script(Turn(tools=((call_id, "lookup", {"key": "alpha"}),), thinking=_signed(1)),
                   Turn(text="The value is VALUE-alpha.", thinking=_signed(2)))
    got = client.run("tools", stream=stream, reasoning=True).ok()
    assert got["text"] == "The value is VALUE-alpha."
    first, second = got["steps"]
    assert [c["name"] for c in first["toolCalls"]] == ["lookup"]
    assert first["reasoningText"] == _shown(client, backend, 1)
    assert second["reasoningText"] == _shown(client, backend, 2)
    calls = backend.calls()
    assert len(calls) == 2
    assert call_id in dumped(calls[1]) and "VALUE-alpha" in dumped(calls[1])
    if backend.name == "anthropic" and client.kind != "openai-chat":  # Chat Completions cannot carry it
        _assert_signed_thinking_went_back(calls[1].body, 1)


@pytest.mark.parametrize("setup", MATRIX, indirect=True)
def test_chat_after_reasoning(setup: tuple[Client, Backend]) -> None:
    client, backend = setup
    backend.script(Turn(text="Hello Ada.", thinking=_signed(1)),
                   Turn(text="Your name is Ada.", thinking=_signed(2)))
    got = client.run("chat", turns=["My name is Ada.", "What is my name?"], reasoning=True).ok()
    assert [a["text"] for a in got["answers"]] == ["Hello Ada.", "Your name is Ada."]
    assert [a["reasoningText"] for a in got["answers"]] == [_shown(client, backend, 1), _shown(client, backend, 2)]
    calls = backend.calls()
    assert len(calls) == 2
    assert "Hello Ada." in dumped(calls[1])


def _assert_signed_thinking_went_back(body: dict, n: int) -> None:
    blocks = [b for m in body["messages"] if m["role"] == "assistant" for b in m["content"]]
    thinking = [b for b in blocks if b["type"] == "thinking"]
    assert thinking == [{"type": "thinking", "thinking": f"{THOUGHT} ({n})", "signature": f"sig-js-{n}"}], \
        json.dumps(body["messages"])
