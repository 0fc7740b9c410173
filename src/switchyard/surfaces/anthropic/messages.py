"""POST /v1/messages and /v1/messages/count_tokens."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from switchyard.codecs.anthropic_messages import (
    StreamEncoder,
    decode_request,
    encode_result,
    ping_event,
)
from switchyard.core.events import Failure
from switchyard.core.request import Request as CanonicalRequest
from switchyard.core.result import afold
from switchyard.engine.generation import generate
from switchyard.gateway.auth import Principal
from switchyard.gateway.router import Route
from switchyard.surfaces.anthropic.errors import render_error
from switchyard.surfaces.context import Services, allow_model, endpoint
from switchyard.surfaces.disconnect import unless_client_leaves
from switchyard.surfaces.http import JSONResponse, read_json, sse_frame, sse_response
from switchyard.surfaces.ids import random_id
from switchyard.surfaces.limits import check_tools
from switchyard.surfaces.streaming import event_batches, first_event


async def _prepare(services: Services, principal: Principal, body: dict[str, Any]) -> tuple[CanonicalRequest, Route]:
    check_tools(body, services.settings.max_tools_per_request)
    canonical = decode_request(body)
    allow_model(services, principal, canonical.model)
    return canonical, services.models.resolve(canonical.model)


async def answer(services: Services, principal: Principal, body: dict[str, Any]) -> dict[str, Any]:
    """A whole message for ``body`` (a batch request's), as the endpoint answers it."""
    canonical, route = await _prepare(services, principal, body)
    result = await afold(generate(route, canonical))
    return encode_result(result, id=random_id("msg_", 24), model=canonical.model)


@endpoint(render_error)
async def create_message(request: Request, services: Services, principal: Principal) -> Response:
    body = await read_json(request, services.settings.max_body_bytes)
    canonical, route = await _prepare(services, principal, body)
    events = generate(route, canonical)
    message_id = random_id("msg_", 24)
    if not canonical.stream:
        result = await unless_client_leaves(request, afold(events), events)
        return JSONResponse(encode_result(result, id=message_id, model=canonical.model))
    first = await unless_client_leaves(request, first_event(events), events)
    encoder = StreamEncoder(id=message_id, model=canonical.model)
    ping_name, ping_data = ping_event()

    ping = sse_frame(ping_data, ping_name)

    async def frames() -> AsyncIterator[bytes]:
        # One bytes chunk (one socket write) per batch of events that were ready together.
        batches = event_batches(first, events, services.settings.stream_keepalive_seconds)
        try:
            async for batch in batches:
                out: list[bytes] = []
                for event in batch:
                    if event is None:
                        out.append(ping)
                        continue
                    out.extend(sse_frame(data, name) for name, data in encoder.feed(event))
                    if isinstance(event, Failure):
                        yield b"".join(out)
                        return
                if out:
                    yield b"".join(out)
        finally:
            await batches.aclose()
        yield b"".join(sse_frame(data, name) for name, data in encoder.close())

    return sse_response(frames())


@endpoint(render_error)
async def count_tokens(request: Request, services: Services, principal: Principal) -> Response:
    body = await read_json(request, services.settings.max_body_bytes)
    check_tools(body, services.settings.max_tools_per_request)
    body.setdefault("max_tokens", 1)
    canonical = decode_request(body)
    allow_model(services, principal, canonical.model)
    route = services.models.resolve(canonical.model)
    return JSONResponse({"input_tokens": await route.provider.count_tokens(canonical)})
