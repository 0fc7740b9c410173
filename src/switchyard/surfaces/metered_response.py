"""An answer whose sending is watched for metering: the call scope is entered while it is
sent (a streamed body runs model turns after the handler returned), the request's meter
learns the HTTP status and whether the whole answer went out, and the cost travels with
the answer: an ``x-switchyard-cost-usd`` header when every model call had ended before
the answer started (non-streaming answers), else an SSE comment line after the last event
(``: x-switchyard-cost-usd 0.000123``), which SSE clients skip. Other streamed bodies (audio)
carry no trailer: it would corrupt them."""

from __future__ import annotations

from starlette.background import BackgroundTask
from starlette.responses import Response
from starlette.types import Message, Receive, Scope, Send

from switchyard.gateway.call_scope import CallScope, entered
from switchyard.gateway.meter import Meter
from switchyard.gateway.metering import metering
from switchyard.gateway.prices import format_usd
from switchyard.surfaces.disconnect import CLIENT_CLOSED_REQUEST

COST_HEADER = "x-switchyard-cost-usd"


class MeteredResponse(Response):
    def __init__(self, inner: Response, scope: CallScope, meter: Meter) -> None:
        # Response's own fields are the inner answer's (headers shared), for anyone reading them.
        self.inner = inner
        self.status_code = inner.status_code
        self.raw_headers = inner.raw_headers
        self.background: BackgroundTask | None = None
        self.call_scope = scope
        self.meter = meter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        meter = self.meter
        status = self.status_code
        complete = False
        streamed = False
        event_stream = False

        async def watched(message: Message) -> None:
            nonlocal complete, status, streamed, event_stream
            if message["type"] == "http.response.start":
                status = message["status"]
                event_stream = _is_event_stream(message)
                if meter.idle:
                    headers = list(message.get("headers", []))
                    headers.append((COST_HEADER.encode(), format_usd(meter.cost_nanousd).encode()))
                    message = {**message, "headers": headers}
                else:
                    streamed = True
            elif message["type"] == "http.response.body" and not message.get("more_body", False):
                if streamed and event_stream and meter.idle:
                    trailer = f": {COST_HEADER} {format_usd(meter.cost_nanousd)}\n\n".encode()
                    await send({"type": "http.response.body", "body": trailer, "more_body": True})
                await send(message)
                complete = True
                return
            await send(message)

        try:
            with entered(self.call_scope), metering(meter):
                await self.inner(scope, receive, watched)
        finally:
            meter.answered(status, client_left=not complete or status == CLIENT_CLOSED_REQUEST)


def _is_event_stream(start: Message) -> bool:
    return any(name.lower() == b"content-type" and value.startswith(b"text/event-stream")
               for name, value in start.get("headers", []))
