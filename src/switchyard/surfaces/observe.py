"""The HTTP middleware that observes every API request: it gives the request an id (the
client's sane ``x-request-id``, or a new one), sends it back (``x-request-id``; ``request-id``
on Anthropic surfaces) with the rate-limit headers of the call's admission, and once the
last byte is sent settles the call's limits, counts it and logs one line for it. With tracing
on, a WebSocket connection gets a server span of its own, the parent of its calls' spans."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from switchyard.gateway.auth import Principal
from switchyard.gateway.call_scope import CallScope, entered
from switchyard.gateway.guardrail import FLAG_HEADER
from switchyard.gateway.limits.headers import anthropic_headers, openai_headers
from switchyard.gateway.output_guardrail import OUTPUT_FLAG_HEADER
from switchyard.gateway.telemetry.access import record_end
from switchyard.gateway.telemetry.request_trace import (
    CallServices,
    RequestTrace,
    connection_span,
    new_request_id,
    observing,
    on_connection,
    request_id_from,
)
from switchyard.gateway.telemetry.socket_outcome import SocketOutcome

if TYPE_CHECKING:
    from switchyard.gateway.telemetry.tracing import Tracing

# Path prefix -> surface label (bounded: never the raw path). First match wins.
SURFACES: tuple[tuple[str, str], ...] = (
    ("/v1/chat/completions", "openai.chat"),
    ("/v1/completions", "openai.completions"),
    ("/v1/messages/count_tokens", "anthropic.count_tokens"),
    ("/v1/messages/batches", "anthropic.batches"),
    ("/v1/messages", "anthropic.messages"),
    ("/v1/responses", "openai.responses"),
    ("/v1/conversations", "openai.conversations"),
    ("/v1/embeddings", "openai.embeddings"),
    ("/v1/moderations", "openai.moderations"),
    ("/v1/images", "openai.images"),
    ("/v1/files", "openai.files"),
    ("/v1/batches", "openai.batches"),
    ("/v1/uploads", "openai.uploads"),
    ("/v1/vector_stores", "openai.vector_stores"),
    ("/v1/models", "openai.models"),
    ("/v1/rerank", "rerank"),
    ("/rerank", "rerank"),
    ("/v1/organization", "admin"),
)
UNOBSERVED = frozenset({"/health", "/ready", "/metrics"})
VENDOR_HEADERS = {"openai": openai_headers, "anthropic": anthropic_headers}
REQUEST_ID_HEADER = {"openai": "x-request-id", "anthropic": "request-id"}


def surface_of(path: str) -> str:
    return next((label for prefix, label in SURFACES if path.startswith(prefix)), "other")


def route_of(scope: Scope) -> str | None:
    """The path with its parameters named (``/v1/responses/{response_id}``), once the router
    matched it; None when no route did."""
    if "endpoint" not in scope:
        return None
    segments: list[str] = scope["path"].split("/")
    params: dict[str, object] = scope.get("path_params") or {}
    for name, value in params.items():
        at = [i for i, segment in enumerate(segments) if segment == str(value)]
        if at:
            segments[at[-1]] = "{" + name + "}"
    return "/".join(segments)


class ObserveRequests:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        services = getattr(scope["app"].state, "services", None) if "app" in scope else None
        if scope["type"] == "websocket" and services is not None and services.call_services.tracing is not None:
            await _observe_socket(self.app, scope, receive, send, services.call_services.tracing)
            return
        if scope["type"] != "http" or services is None or scope["path"] in UNOBSERVED:
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        surface = surface_of(path)
        trace = RequestTrace(request_id_from(Headers(scope=scope).get("x-request-id")), services.call_services,
                             surface=surface, vendor="anthropic" if surface.startswith("anthropic") else "openai")
        status = 500

        async def send_observed(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = MutableHeaders(scope=message)
                headers[REQUEST_ID_HEADER[trace.vendor]] = trace.request_id
                if trace.decision is not None:
                    for name, value in VENDOR_HEADERS[trace.vendor](trace.decision).items():
                        headers[name] = value
                if trace.moderation_flags:
                    headers[FLAG_HEADER] = ",".join(trace.moderation_flags)
                if trace.output_moderation_flags:
                    headers[OUTPUT_FLAG_HEADER] = ",".join(trace.output_moderation_flags)
            await send(message)

        metrics = trace.services.metrics
        tracing = trace.services.tracing
        if tracing is not None:
            trace.span = tracing.start_server_span(scope["method"], path, Headers(scope=scope))
        metrics.in_flight.inc()
        try:
            with observing(trace):
                await self.app(scope, receive, send_observed)
        finally:
            metrics.in_flight.dec()
            if tracing is not None and trace.span is not None:
                tracing.end_server_span(trace.span, scope["method"], route_of(scope), status, trace.request_id)
            await record_end(trace, status=status, method=scope["method"], path=path)


@contextlib.asynccontextmanager
async def observed_call(services: CallServices, principal: Principal, surface: str, path: str
                        ) -> AsyncIterator[RequestTrace]:
    """One call that is not an HTTP request of its own (a ``response.create`` event on a
    WebSocket): admitted, measured and logged like one."""
    trace = RequestTrace(new_request_id(), services, surface=surface, project_id=principal.owner_id,
                         key_id=principal.key_id, span=connection_span())
    status = 500
    try:
        with observing(trace), entered(CallScope(principal, surface)):
            yield trace
        status = 200
    finally:
        await record_end(trace, status=status, method="WS", path=path)


async def _observe_socket(app: ASGIApp, scope: Scope, receive: Receive, send: Send, tracing: Tracing) -> None:
    """A WebSocket connection under a server span of its own (each call on it is observed
    by ``observed_call``, its model spans the children of this one)."""
    span = tracing.start_socket_span(scope["path"], scope.get("scheme", "ws"), Headers(scope=scope))
    outcome = SocketOutcome()

    async def receive_watched() -> Message:
        message = await receive()
        if message["type"] == "websocket.disconnect" and outcome.close_code is None:
            outcome.close_code = int(message.get("code", 1005))
        return message

    async def send_watched(message: Message) -> None:
        kind = message["type"]
        if kind == "websocket.accept":
            outcome.status = 101
        elif kind == "websocket.http.response.start":
            outcome.status = int(message["status"])
        elif kind == "websocket.close":
            if outcome.status is None:
                outcome.status = 403  # closed before the handshake: the server refuses it
            elif outcome.close_code is None:
                outcome.close_code = int(message.get("code", 1000))
        await send(message)

    try:
        with on_connection(span):
            await app(scope, receive_watched, send_watched)
    except BaseException as error:
        outcome.error = type(error).__qualname__
        raise
    finally:
        outcome.route = route_of(scope)
        tracing.end_socket_span(span, outcome)
