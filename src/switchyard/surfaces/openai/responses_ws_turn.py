"""One ``response.create`` event on a WebSocket connection: decoded like a
``POST /v1/responses`` body, run by the Responses service, its stream events sent
one per frame; the connection's cache learns the result."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from switchyard.codecs.openai_chat import error_body
from switchyard.codecs.openai_responses import decode_request
from switchyard.codecs.openai_responses.call import ResponsesCall
from switchyard.core.errors import ErrorKind, SwitchyardError, invalid, unsupported
from switchyard.engine.responses.connection_cache import ConnectionCache, Lane
from switchyard.engine.responses.service import Prepared, ResponsesService
from switchyard.gateway.auth import Principal
from switchyard.gateway.call_scope import CallScope
from switchyard.gateway.metering import Metering

Send = Callable[[dict[str, Any]], Awaitable[None]]
ENVELOPE = ("type", "stream_id", "generate")
FINISHED = ("response.completed", "response.incomplete")
TERMINAL = (*FINISHED, "response.failed")
FALLBACK_CODES = {ErrorKind.SERVER: "server_error", ErrorKind.RATE_LIMIT: "rate_limit_exceeded"}


def error_event(error: SwitchyardError, lane: Lane = None) -> dict[str, Any]:
    """OpenAI's WebSocket ``error`` event: the HTTP status and the HTTP error object, whose
    ``code`` is never null here (Open Responses requires one)."""
    body = error_body(error)
    body["error"]["code"] = body["error"]["code"] or FALLBACK_CODES.get(error.kind, error.kind.value)
    event: dict[str, Any] = {"type": "error", "status": error.status, **body}
    if lane is not None:
        event["stream_id"] = lane
    return event


def decode_create(frame: dict[str, Any]) -> tuple[ResponsesCall, dict[str, Any], bool]:
    """The call, the body as a ``POST`` would carry it, and whether to generate."""
    body = {key: value for key, value in frame.items() if key not in ENVELOPE}
    if body.get("stream") is not None:
        raise unsupported("stream", "over WebSocket every response is streamed; leave 'stream' out")
    if body.get("background"):
        raise unsupported("background", "background responses are not available over WebSocket")
    body.pop("stream", None)
    generate = frame.get("generate", True)
    if not isinstance(generate, bool):
        raise invalid("Invalid type for 'generate': expected a boolean.", "generate", "invalid_type")
    return decode_request({**body, "stream": True}), body, generate


class SocketResponses:
    """Runs one connection's responses for one caller, with the connection's cache."""

    def __init__(self, service: ResponsesService, principal: Principal, metering: Metering,
                 check_model: Callable[[str], None] = lambda name: None) -> None:
        self.service = service
        self.principal = principal
        self.owner_id = principal.owner_id
        self.metering = metering
        self.check_model = check_model  # raises for a model the caller may not use
        self.cache = ConnectionCache()

    async def create(self, frame: dict[str, Any], lane: Lane, send: Send) -> None:
        """One response, metered as one request."""
        with self.metering.scoped(CallScope(self.principal, "openai.responses_ws")):
            await self._create(frame, lane, send)

    async def _create(self, frame: dict[str, Any], lane: Lane, send: Send) -> None:
        call: ResponsesCall | None = None
        try:
            call, body, generate = decode_create(frame)
            self.check_model(call.model)
            parent = call.previous_response_id
            cached = self.cache.context(parent) if parent else None
            prepared = await self.service.prepare(call, self.owner_id, body, history=cached)
            events = await self.service.stream_foreground(prepared, generate=generate)
        except SwitchyardError as error:
            if call is not None and call.previous_response_id:
                self.cache.forget(lane, call.previous_response_id)
            await send(error_event(error, lane))
            return
        terminal: dict[str, Any] | None = None
        try:
            async for event in events:
                if lane is not None:
                    event = {**event, "stream_id": lane}
                if event["type"] in TERMINAL:  # the service sends it last, once the run is stored
                    terminal = event
                    self._learn(lane, prepared, terminal)
                await send(event)
        except SwitchyardError as error:  # the run ended, but what follows it (storing) failed
            self._learn(lane, prepared, None)
            await send(error_event(error, lane))
            return
        if terminal is None:
            self._learn(lane, prepared, None)

    def _learn(self, lane: Lane, p: Prepared, terminal: dict[str, Any] | None) -> None:
        parent = p.call.previous_response_id
        if terminal is None or terminal["type"] not in FINISHED:
            if parent:
                self.cache.forget(lane, parent)
            return
        before = p.history if parent else []
        self.cache.remember(lane, p.response_id, [*before, *p.input_items, *terminal["response"]["output"]])
