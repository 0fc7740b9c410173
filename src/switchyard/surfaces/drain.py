"""Every HTTP request runs under the process's drain (``gateway/drain.py``): its model turns
end with the format's error event if the process stops before they finish."""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from switchyard.gateway.drain import Drain, draining_with


class DrainRequests:
    def __init__(self, app: ASGIApp, drain: Drain) -> None:
        self.app = app
        self.drain = drain

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        with draining_with(self.drain):
            await self.app(scope, receive, send)
