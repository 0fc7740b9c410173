"""The contract every backend implements."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Protocol

from switchyard.core.events import Event
from switchyard.core.request import Request


@dataclass(frozen=True, slots=True)
class Capabilities:
    """What a backend can do natively; the layers above fill the gaps or refuse."""

    json_schema: bool = False  # enforces response_format json_schema / strict tools itself
    n: bool = False
    seed: bool = False
    logprobs: bool = False
    vision: bool = False


@dataclass(frozen=True, slots=True)
class Embeddings:
    vectors: list[list[float]]
    input_tokens: int


class Embedder(Protocol):
    """A backend that turns texts into vectors (``ModelConfig.task == "embedding"``)."""

    dimensions: int

    async def embed(self, texts: list[str], dimensions: int | None = None) -> Embeddings: ...

    async def aclose(self) -> None: ...


class Provider(Protocol):
    """One configured backend model. ``generate`` streams canonical events:
    ``Start`` first, then blocks, ``UsageReport`` and one ``Finish`` per choice;
    or ``Failure`` (or a raised ``SwitchyardError`` before anything was sent)."""

    capabilities: Capabilities

    def generate(self, request: Request) -> AsyncIterator[Event]: ...

    async def count_tokens(self, request: Request) -> int: ...

    async def aclose(self) -> None: ...
