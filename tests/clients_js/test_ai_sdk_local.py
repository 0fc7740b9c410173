"""The AI SDK's three model kinds on the embedded model: what is checked is the protocol
(requests accepted, answers and streams understood, a tool loop carried through, JSON that
fits the schema), not the small model's wisdom."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.clients_js.node import Client
from tests.conftest import LOCAL
from tests.server import MASTER_KEY, LiveServer

pytestmark = pytest.mark.slow

KINDS = ["openai-chat", "openai-responses", "anthropic"]


def kind_client(server: LiveServer, js_programs: Path, kind: str) -> Client:
    return Client(js_programs, server.url, MASTER_KEY, kind, LOCAL)


@pytest.fixture(params=KINDS)
def client(request: pytest.FixtureRequest, server: LiveServer, js_programs: Path) -> Client:
    return kind_client(server, js_programs, request.param)


@pytest.mark.parametrize("stream", [False, True], ids=["generate", "stream"])
def test_text(client: Client, stream: bool) -> None:
    got = client.run("text", prompt="Say hello in one short sentence.", max_tokens=24, stream=stream).ok()
    assert got["text"].strip()
    assert got["finishReason"] in ("stop", "length")
    assert got["usage"]["inputTokens"] > 0 and got["usage"]["outputTokens"] > 0
    if stream:
        assert got["deltas"] >= 2 and got["parts"].get("finish") == 1


# The embedded model is slow on a small machine: one run per kind, streamed or not in turn
# (test_text covers both ways for every kind).
@pytest.mark.parametrize(("kind", "stream"), [("openai-chat", False), ("openai-responses", True),
                                              ("anthropic", True)])
def test_tool_loop(server: LiveServer, js_programs: Path, kind: str, stream: bool) -> None:
    got = kind_client(server, js_programs, kind).run("tools", force_tool=True, stream=stream, max_tokens=48).ok()
    first, *rest = got["steps"]
    assert first["finishReason"] == "tool-calls"
    assert [c["name"] for c in first["toolCalls"]] == ["lookup"]
    assert isinstance(first["toolCalls"][0]["input"].get("key"), str)
    assert [r["output"]["value"] for r in first["toolResults"]] == [f"VALUE-{first['toolCalls'][0]['input']['key']}"]
    assert len(rest) == 1 and rest[0]["toolCalls"] == [] and rest[0]["finishReason"] in ("stop", "length")


@pytest.mark.parametrize(("kind", "mode"), [("openai-chat", "object"), ("openai-responses", "output"),
                                            ("anthropic", "stream")])
def test_structured_output(server: LiveServer, js_programs: Path, kind: str, mode: str) -> None:
    got = kind_client(server, js_programs, kind).run("structured", mode=mode, max_tokens=64).ok()
    assert set(got["object"]) == {"city", "population"}
    assert isinstance(got["object"]["city"], str) and isinstance(got["object"]["population"], int)


def test_multi_turn_chat(client: Client) -> None:
    got = client.run("chat", turns=["My name is Ada.", "What is my name?"], max_tokens=24).ok()
    assert len(got["answers"]) == 2 and all(a["text"].strip() for a in got["answers"])
    assert got["messages"] == 4
