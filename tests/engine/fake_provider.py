"""A provider stand-in for engine tests: it plays one scripted turn per call and keeps
the requests it was given. It implements ``providers.base.Provider``; nothing of
Switchyard's own is replaced."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from switchyard.config import ModelConfig
from switchyard.core.errors import SwitchyardError
from switchyard.core.events import ArgumentsDelta, BlockStart, BlockStop, Event, Finish, Start, TextDelta, UsageReport
from switchyard.core.request import Request
from switchyard.core.usage import Usage
from switchyard.gateway.router import Route
from switchyard.providers.base import Capabilities

Turn = list[Event] | SwitchyardError


def text_turn(text: str, *, output_tokens: int = 2) -> list[Event]:
    return [Start(id="t"), BlockStart(0, "text"), TextDelta(0, text), BlockStop(0),
            UsageReport(Usage(input_tokens=10, output_tokens=output_tokens)), Finish("stop")]


def call_turn(*calls: tuple[str, str, str]) -> list[Event]:
    """Calls as ``(call_id, name, arguments)``."""
    events: list[Event] = [Start(id="t")]
    for i, (call_id, name, arguments) in enumerate(calls):
        events += [BlockStart(i, "tool_call", call_id=call_id, name=name), ArgumentsDelta(i, arguments),
                   BlockStop(i)]
    return [*events, UsageReport(Usage(input_tokens=10, output_tokens=5)), Finish("tool_calls")]


@dataclass
class FakeProvider:
    turns: list[Turn]
    capabilities: Capabilities = field(default_factory=Capabilities)
    requests: list[Request] = field(default_factory=list)

    async def generate(self, request: Request) -> AsyncIterator[Event]:
        self.requests.append(request)
        turn = self.turns[min(len(self.requests), len(self.turns)) - 1]
        if isinstance(turn, SwitchyardError):
            raise turn
        for event in turn:
            yield event

    async def count_tokens(self, request: Request) -> int:
        return 0

    async def aclose(self) -> None:
        return None


def route(provider: FakeProvider) -> Route:
    return Route(ModelConfig(name="fake", provider="openai"), provider)
