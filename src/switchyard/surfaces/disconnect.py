"""Work for a client that may hang up: a non-streaming answer is computed while
the connection is watched, and is cancelled (closing the upstream request or
stopping the local model) as soon as the client goes away. Streaming answers
need none of this: their writer stops, and closing the stream cancels the work.

The body must have been read before: the watcher reads what the server sends
next on the connection, which after the body is only ``http.disconnect``."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable
from typing import Any, TypeVar

from starlette.requests import Request
from starlette.responses import Response

T = TypeVar("T")

CLIENT_CLOSED_REQUEST = 499  # nginx's status for a request the client gave up on; nobody reads it


class ClientGone(Exception):
    """The client closed the connection before its answer was ready."""


async def _disconnected(request: Request) -> None:
    while True:
        message = await request.receive()
        if message["type"] == "http.disconnect":
            return


async def unless_client_leaves(request: Request, work: Awaitable[T],
                               events: AsyncIterator[Any] | None = None) -> T:
    """The result of ``work``; raises ``ClientGone`` (after cancelling ``work`` and
    closing ``events``, the stream it reads, wherever it stopped) if the client
    disconnects first."""
    task = asyncio.ensure_future(work)
    watcher = asyncio.ensure_future(_disconnected(request))
    try:
        await asyncio.wait({task, watcher}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        watcher.cancel()
        if not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
            aclose = getattr(events, "aclose", None)
            if aclose is not None:
                with contextlib.suppress(Exception):
                    await aclose()
    if task.cancelled():
        raise ClientGone
    return task.result()


def gone_response() -> Response:
    return Response(status_code=CLIENT_CLOSED_REQUEST)
