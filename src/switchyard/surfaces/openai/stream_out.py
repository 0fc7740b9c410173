"""Chat and legacy completion chunks out as OpenAI SSE, ending in ``[DONE]``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, Protocol

from switchyard.core.events import Event, Failure
from switchyard.surfaces.http import sse_frame
from switchyard.surfaces.streaming import with_keepalive

DONE = b"data: [DONE]\n\n"
KEEPALIVE_FRAME = b": keep-alive\n\n"


class ChunkEncoder(Protocol):
    def feed(self, event: Event) -> list[dict[str, Any]]: ...

    def close(self) -> list[dict[str, Any]]: ...


async def openai_frames(
    first: Event | None, events: AsyncIterator[Event], encoder: ChunkEncoder, keepalive: float
) -> AsyncIterator[bytes]:
    async for event in with_keepalive(first, events, keepalive):
        if event is None:
            yield KEEPALIVE_FRAME
            continue
        for chunk in encoder.feed(event):
            yield sse_frame(chunk)
        if isinstance(event, Failure):
            return
    for chunk in encoder.close():
        yield sse_frame(chunk)
    yield DONE
