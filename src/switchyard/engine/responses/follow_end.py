"""A follower of a background response (``GET /v1/responses/{id}?stream=true``) reads the
store, not a model, so nothing of it stops when its process drains: at the drain's
deadline its stream ends with an ``error`` event that says where to resume
(``starting_after``, through another process). The response itself is left alone: it
goes on wherever it runs."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from switchyard.codecs.openai_responses.response_out import stream_error
from switchyard.core.errors import ErrorKind, SwitchyardError
from switchyard.gateway.drain import until_deadline

CODE = "server_shutting_down"


def resumable_at_drain(events: AsyncIterator[dict[str, Any]], last: int) -> AsyncIterator[dict[str, Any]]:
    """``events`` (those after sequence number ``last``), ended at the drain's deadline by
    the ``error`` event naming the last sequence number sent."""
    seen = last

    async def tracked() -> AsyncIterator[dict[str, Any]]:
        nonlocal seen
        async for event in events:
            seen = event["sequence_number"]
            yield event

    def ending() -> dict[str, Any]:
        return stream_error(interrupted(seen), seen)

    return until_deadline(tracked(), ending)


def interrupted(last: int) -> SwitchyardError:
    resume = (f"with starting_after={last}" if last >= 0 else "from the start")
    message = (f"The server is shutting down; the response goes on. Resume the stream through another "
               f"server {resume}.")
    return SwitchyardError(ErrorKind.OVERLOADED, message, code=CODE)
