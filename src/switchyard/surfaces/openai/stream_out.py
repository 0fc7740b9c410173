"""Chat and legacy completion chunks out as OpenAI SSE, ending in ``[DONE]``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, Protocol

from switchyard.core.events import Event, Failure
from switchyard.surfaces.http import sse_frame
from switchyard.surfaces.streaming import event_batches

DONE = b"data: [DONE]\n\n"
KEEPALIVE_FRAME = b": keep-alive\n\n"


class ChunkEncoder(Protocol):
    def feed(self, event: Event) -> list[dict[str, Any]]: ...

    def close(self) -> list[dict[str, Any]]: ...


async def openai_frames(
    first: Event | None, events: AsyncIterator[Event], encoder: ChunkEncoder, keepalive: float
) -> AsyncIterator[bytes]:
    """One bytes chunk (one socket write) per batch of events that were ready together."""
    batches = event_batches(first, events, keepalive)
    try:
        async for batch in batches:
            out: list[bytes] = []
            for event in batch:
                if event is None:
                    out.append(KEEPALIVE_FRAME)
                    continue
                out.extend(map(sse_frame, encoder.feed(event)))
                if isinstance(event, Failure):
                    yield b"".join(out)
                    return
            if out:
                yield b"".join(out)
    finally:
        await batches.aclose()
    out = list(map(sse_frame, encoder.close()))
    out.append(DONE)
    yield b"".join(out)
