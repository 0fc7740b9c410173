"""The Vercel AI SDK (``ai`` with ``@ai-sdk/openai`` chat and Responses models and
``@ai-sdk/anthropic``) through Switchyard to scripted upstreams of both vendors: text,
streaming, a full tool loop, structured output and a multi-turn chat, each checked in what
the program got back and in what the upstream received."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.clients_js.matrix import CASES, Backend, dumped
from tests.clients_js.node import Client
from tests.clients_js.turns import Turn, scripted
from tests.conftest import VIA_OPENAI
from tests.fakes.upstream import FakeUpstream
from tests.server import MASTER_KEY, LiveServer

MATRIX = [pytest.param(case, id="-".join(case)) for case in CASES]


@pytest.mark.parametrize("setup", MATRIX, indirect=True)
@pytest.mark.parametrize("stream", [False, True], ids=["generate", "stream"])
def test_text(setup: tuple[Client, Backend], stream: bool) -> None:
    client, backend = setup
    backend.script(Turn(text="Hello from upstream."))
    got = client.run("text", prompt="Greet me, please.", stream=stream).ok()
    assert got["text"] == "Hello from upstream."
    assert got["finishReason"] == "stop"
    assert got["usage"]["inputTokens"] > 0 and got["usage"]["outputTokens"] > 0
    if stream:
        assert got["deltas"] >= 2, got
        assert got["parts"].get("finish") == 1, got
    elif client.kind == "anthropic":  # as Anthropic sends it: no "citations": null on text blocks
        assert got["body"]["content"] == [{"type": "text", "text": "Hello from upstream."}]
    (call,) = backend.calls()
    assert "Greet me, please." in dumped(call)


@pytest.mark.parametrize("setup", MATRIX, indirect=True)
@pytest.mark.parametrize("stream", [False, True], ids=["generate", "stream"])
def test_tool_loop(setup: tuple[Client, Backend], stream: bool) -> None:
    client, backend = setup
    call_id = backend.call_id(1)
    backend.script(Turn(tools=((call_id, "lookup", {"key": "alpha"}),)), Turn(text="The value is VALUE-alpha."))
    got = client.run("tools", stream=stream).ok()
    assert got["text"] == "The value is VALUE-alpha."
    first, second = got["steps"]
    assert first["finishReason"] == "tool-calls"
    assert [(c["name"], c["input"]) for c in first["toolCalls"]] == [("lookup", {"key": "alpha"})]
    assert [(r["name"], r["output"]) for r in first["toolResults"]] == [("lookup", {"value": "VALUE-alpha"})]
    assert first["toolResults"][0]["id"] == first["toolCalls"][0]["id"]
    assert second["finishReason"] == "stop" and second["text"] == "The value is VALUE-alpha."
    calls = backend.calls()
    assert len(calls) == 2
    assert "lookup" in dumped(calls[0])
    assert call_id in dumped(calls[1]) and "VALUE-alpha" in dumped(calls[1])


@pytest.mark.parametrize("setup", MATRIX, indirect=True)
def test_parallel_tool_calls(setup: tuple[Client, Backend]) -> None:
    client, backend = setup
    ids = backend.call_id(2), backend.call_id(3)
    backend.script(Turn(tools=((ids[0], "lookup", {"key": "alpha"}), (ids[1], "lookup", {"key": "beta"}))),
                   Turn(text="alpha and beta found."))
    got = client.run("tools", prompt="Look up alpha and beta, both at once.").ok()
    first, second = got["steps"]
    assert sorted(c["input"]["key"] for c in first["toolCalls"]) == ["alpha", "beta"]
    assert sorted(r["output"]["value"] for r in first["toolResults"]) == ["VALUE-alpha", "VALUE-beta"]
    assert second["text"] == "alpha and beta found."
    sent = dumped(backend.calls()[1])
    assert all(call_id in sent for call_id in ids) and "VALUE-alpha" in sent and "VALUE-beta" in sent


STRUCTURED = {"city": "Paris", "population": 2100000}


@pytest.mark.parametrize("setup", MATRIX, indirect=True)
@pytest.mark.parametrize("mode", ["object", "output", "stream"])
def test_structured_output(setup: tuple[Client, Backend], mode: str) -> None:
    client, backend = setup
    backend.script(Turn(text=json.dumps(STRUCTURED)))
    got = client.run("structured", mode=mode).ok()
    assert got["object"] == STRUCTURED
    if mode == "stream":
        assert got["partials"] >= 1
    (call,) = backend.calls()
    assert "population" in dumped(call)  # the schema went upstream


@pytest.mark.parametrize("setup", MATRIX, indirect=True)
@pytest.mark.parametrize("stream", [False, True], ids=["generate", "stream"])
def test_multi_turn_chat(setup: tuple[Client, Backend], stream: bool) -> None:
    client, backend = setup
    backend.script(Turn(text="Hello Ada."), Turn(text="Your name is Ada."), Turn(text="Goodbye, Ada."))
    got = client.run("chat", turns=["My name is Ada.", "What is my name?", "Bye."], stream=stream).ok()
    assert [a["text"] for a in got["answers"]] == ["Hello Ada.", "Your name is Ada.", "Goodbye, Ada."]
    calls = backend.calls()
    assert len(calls) == 3
    last = _conversation(backend.name, calls[2].body)
    assert last == [("user", "My name is Ada."), ("assistant", "Hello Ada."), ("user", "What is my name?"),
                    ("assistant", "Your name is Ada."), ("user", "Bye.")]


def _conversation(backend: str, body: dict[str, Any]) -> list[tuple[str, str]]:
    """(role, text) of every message the upstream was sent, whatever its vendor's shape."""
    messages = body["input"] if backend == "responses" else body["messages"]
    out = []
    for message in messages:
        if message.get("role") in ("system", "developer"):
            continue
        content = message["content"]
        if isinstance(content, list):
            content = "".join(part.get("text", "") for part in content)
        out.append((message["role"], content))
    return out


def test_the_default_openai_model_is_the_responses_model(server: LiveServer, js_programs: Path, oai,
                                                          fake_openai: FakeUpstream) -> None:
    """``openai(model)`` without ``.chat``/``.responses``: the SDK's default, the Responses API."""
    fake_openai.script(scripted("openai", Turn(text="Hello by default.")))
    got = Client(js_programs, server.url, MASTER_KEY, "openai-default", VIA_OPENAI).run("text").ok()
    assert got["text"] == "Hello by default."
    assert oai.responses.retrieve(got["responseId"]).output_text == "Hello by default."
