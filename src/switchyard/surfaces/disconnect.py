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
    """The result of ``work``, awaited in the caller's task; raises ``ClientGone`` (after
    cancelling ``work`` and closing ``events``, the stream it reads, wherever it stopped)
    if the client disconnects first. One watcher task per call, and no task for the work
    itself: each task and wait costs the request path a turn of the event loop."""
    task = asyncio.current_task()
    assert task is not None
    left = False

    async def watch() -> None:
        nonlocal left
        await _disconnected(request)
        left = True
        task.cancel()

    watcher = asyncio.get_running_loop().create_task(watch())
    try:
        return await work
    except asyncio.CancelledError:
        if not left:
            raise
        task.uncancel()  # the watcher's cancel, not the caller's
        aclose = getattr(events, "aclose", None)
        if aclose is not None:
            with contextlib.suppress(Exception):
                await aclose()
        raise ClientGone from None
    finally:
        watcher.cancel()


def gone_response() -> Response:
    return Response(status_code=CLIENT_CLOSED_REQUEST)
