"""How a WebSocket connection went, as its server span reports it (kept apart from
``tracing`` so that the middleware need not import OpenTelemetry's exporter)."""

from __future__ import annotations

from dataclasses import dataclass

INTERNAL_ERROR = 1011  # the WebSocket close code of a server that failed (RFC 6455)


@dataclass(slots=True)
class SocketOutcome:
    """How a WebSocket connection went, for its span."""

    route: str | None = None
    status: int | None = None  # of the handshake: 101 accepted, else the refusal's
    close_code: int | None = None  # of the close frame, sent or received
    error: str | None = None  # the exception's type when the handler failed
