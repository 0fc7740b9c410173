"""The matrix the AI SDK tests run over: model kinds of the SDK x Switchyard models on the
scripted upstreams, and the upstream each one reaches."""

from __future__ import annotations

import json

from tests.clients_js.turns import Turn, scripted
from tests.conftest import VIA_ANTHROPIC, VIA_OPENAI, VIA_RESPONSES
from tests.fakes.upstream import FakeUpstream, Received

KINDS = ("openai-chat", "openai-responses", "anthropic")
MODELS = {"openai": VIA_OPENAI, "responses": VIA_RESPONSES, "anthropic": VIA_ANTHROPIC}
PATHS = {"openai": "/v1/chat/completions", "responses": "/v1/responses", "anthropic": "/v1/messages"}
CASES = [(kind, backend) for kind in KINDS for backend in MODELS]


class Backend:
    def __init__(self, name: str, fake: FakeUpstream) -> None:
        self.name = name
        self.fake = fake

    def script(self, *turns: Turn) -> None:
        self.fake.script(*(scripted(self.name, turn) for turn in turns))

    def calls(self) -> list[Received]:
        return [r for r in self.fake.received if r.path == PATHS[self.name]]

    def call_id(self, n: int) -> str:
        return f"toolu_lookup_{n}" if self.name == "anthropic" else f"call_lookup_{n}"



def dumped(received: Received) -> str:
    return json.dumps(received.body)
