"""POST /v1/completions (legacy text completions)."""

from __future__ import annotations

import time
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from switchyard.codecs.openai_completions import (
    ChunkEncoder,
    decode_echo,
    decode_request,
    decode_stream_options,
    encode_result,
)
from switchyard.core.request import Request as CanonicalRequest
from switchyard.core.result import afold
from switchyard.engine.generation import generate
from switchyard.gateway.auth import Principal
from switchyard.gateway.router import Route
from switchyard.surfaces.context import Services, allow_model, endpoint
from switchyard.surfaces.disconnect import unless_client_leaves
from switchyard.surfaces.http import JSONResponse, read_json, sse_response
from switchyard.surfaces.ids import random_id
from switchyard.surfaces.openai.errors import render_error
from switchyard.surfaces.openai.stream_out import openai_frames
from switchyard.surfaces.streaming import first_event


async def _prepare(services: Services, principal: Principal, body: dict[str, Any]) -> tuple[CanonicalRequest, Route]:
    canonical = decode_request(body)
    allow_model(services, principal, canonical.model)
    return canonical, services.models.resolve(canonical.model)


async def answer(services: Services, principal: Principal, body: dict[str, Any]) -> dict[str, Any]:
    """A whole completion for ``body`` (a batch line's), as the endpoint answers it."""
    canonical, route = await _prepare(services, principal, body)
    echo = decode_echo(body)
    result = await afold(generate(route, canonical))
    return encode_result(result, id=random_id("cmpl-"), model=canonical.model, created=int(time.time()), echo=echo)


@endpoint(render_error)
async def create_completion(request: Request, services: Services, principal: Principal) -> Response:
    body = await read_json(request, services.settings.max_body_bytes)
    canonical, route = await _prepare(services, principal, body)
    include_usage = decode_stream_options(body)
    echo = decode_echo(body)
    events = generate(route, canonical)
    completion_id = random_id("cmpl-")
    created = int(time.time())
    if not canonical.stream:
        result = await unless_client_leaves(request, afold(events), events)
        return JSONResponse(
            encode_result(result, id=completion_id, model=canonical.model, created=created, echo=echo)
        )
    first = await unless_client_leaves(request, first_event(events), events)
    encoder = ChunkEncoder(
        id=completion_id, model=canonical.model, created=created, include_usage=include_usage,
        echo=echo,
    )
    keepalive = services.settings.stream_keepalive_seconds
    return sse_response(openai_frames(first, events, encoder, keepalive))
