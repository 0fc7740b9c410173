"""Realtime calls: sessions whose client is reached over WebRTC rather than one WebSocket
(``POST /v1/realtime/calls``), which a server may join with a sideband WebSocket
(``wss /v1/realtime?call_id=...``) to watch the events and send its own. A call lives in
the process that answered its offer, as long as the peer connection does."""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from switchyard.core.errors import ErrorKind, SwitchyardError

Listener = Callable[[dict[str, Any]], Awaitable[None]]
Hangup = Callable[[], Awaitable[None]]


@dataclass(slots=True)
class RealtimeCall:
    id: str
    owner_id: str  # the project that made the call; another one is told it does not exist
    from_client: Callable[[str], Awaitable[None]]  # one client event (JSON text), as the peer sends them
    hangup: Hangup
    listeners: dict[int, tuple[Listener, Hangup]] = field(default_factory=dict)

    def listen(self, send: Listener, close: Hangup) -> int:
        """A sideband connection: it gets every server event from now on; ``close`` ends it
        when the call ends. The returned token removes it."""
        token = id(send)
        self.listeners[token] = (send, close)
        return token

    def unlisten(self, token: int) -> None:
        self.listeners.pop(token, None)

    async def broadcast(self, event: dict[str, Any]) -> None:
        for token, (send, _close) in list(self.listeners.items()):
            try:
                await send(event)
            except Exception:  # a sideband socket that went away: it stops listening
                self.listeners.pop(token, None)

    async def close_listeners(self) -> None:
        for _send, close in list(self.listeners.values()):
            with contextlib.suppress(Exception):
                await close()
        self.listeners.clear()


class RealtimeCalls:
    """The calls this process holds, by id."""

    def __init__(self) -> None:
        self._calls: dict[str, RealtimeCall] = {}

    def add(self, call: RealtimeCall) -> None:
        self._calls[call.id] = call

    def remove(self, call_id: str) -> None:
        self._calls.pop(call_id, None)

    def get(self, call_id: str, owner_id: str, param: str = "call_id") -> RealtimeCall:
        """The caller's live call; 404 for an unknown, ended or another project's call."""
        call = self._calls.get(call_id)
        if call is None or call.owner_id != owner_id:
            raise SwitchyardError(ErrorKind.NOT_FOUND, f"No call with id '{call_id}' is active here.",
                                  param=param, code="call_not_found")
        return call

    async def hangup_all(self) -> None:
        """Every call ends (the process is stopping)."""
        for call in list(self._calls.values()):
            with contextlib.suppress(Exception):
                await call.hangup()
