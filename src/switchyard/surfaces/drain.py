"""Every HTTP request and WebSocket runs under the process's drain (``gateway/drain.py``):
its model turns end with the format's error event if the process stops before they
finish, and a WebSocket stays open through the drain until it has nothing in flight."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.websockets import WebSocket, WebSocketDisconnect

from switchyard.gateway.drain import RESTART_CODE, RESTART_REASON, Drain, draining_with


class DrainRequests:
    def __init__(self, app: ASGIApp, drain: Drain) -> None:
        self.app = app
        self.drain = drain

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        with draining_with(self.drain):
            await self.app(scope, receive, send)


class SocketSender:
    """Sends a WebSocket's frames one at a time; once the drain closed the socket (1012),
    a send raises ``WebSocketDisconnect`` as if the client had left."""

    def __init__(self, websocket: WebSocket) -> None:
        self.websocket = websocket
        self.lock = asyncio.Lock()
        self.closed = False

    async def send_text(self, text: str) -> None:
        async with self.lock:
            if self.closed:
                raise WebSocketDisconnect(RESTART_CODE, RESTART_REASON)
            await self.websocket.send_text(text)

    async def restart(self) -> None:
        """Closes the socket with 1012 (service restart), after any frame being sent."""
        async with self.lock:
            if self.closed:
                return
            self.closed = True
            await self.websocket.close(code=RESTART_CODE, reason=RESTART_REASON)


@contextlib.contextmanager
def drained_socket(websocket: WebSocket, idle: Callable[[], bool],
                   close: Callable[[], Awaitable[None]]) -> Iterator[None]:
    """The WebSocket served inside stays open through a drain: it is closed (``close``) once
    ``idle`` says it has nothing in flight, or at the deadline."""
    drain: Any = getattr(websocket.app.state, "drain", None)
    if not isinstance(drain, Drain):
        yield
        return
    with drain.socket(idle, close):
        yield
