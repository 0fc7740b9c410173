"""POST /v1/chat/completions."""

from __future__ import annotations

import time
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from switchyard.codecs.openai_chat import (
    ChunkEncoder,
    decode_request,
    decode_stream_options,
    encode_result,
)
from switchyard.core.request import Request as CanonicalRequest
from switchyard.core.result import afold
from switchyard.engine.file_inputs import chat_references
from switchyard.engine.generation import generate
from switchyard.gateway.auth import Principal
from switchyard.gateway.router import Route
from switchyard.surfaces.context import Services, allow_model, endpoint
from switchyard.surfaces.disconnect import unless_client_leaves
from switchyard.surfaces.http import JSONResponse, read_json, sse_response
from switchyard.surfaces.ids import random_id
from switchyard.surfaces.limits import CHAT_MAX_TOOLS, check_tools
from switchyard.surfaces.openai.errors import render_error
from switchyard.surfaces.openai.stream_out import openai_frames
from switchyard.surfaces.streaming import first_event


async def _prepare(services: Services, principal: Principal, body: dict[str, Any]) -> tuple[CanonicalRequest, Route]:
    check_tools(body, CHAT_MAX_TOOLS)
    canonical = decode_request(body)
    allow_model(services, principal, canonical.model)
    route = services.models.resolve(canonical.model)
    await services.file_inputs.check(chat_references(body["messages"]), principal.owner_id)
    await services.file_inputs.resolve(canonical.items, principal.owner_id)
    return canonical, route


async def answer(services: Services, principal: Principal, body: dict[str, Any]) -> dict[str, Any]:
    """A whole chat completion for ``body`` (a batch line's), as the endpoint answers it."""
    canonical, route = await _prepare(services, principal, body)
    result = await afold(generate(route, canonical))
    return encode_result(result, id=random_id("chatcmpl-"), model=canonical.model, created=int(time.time()))


@endpoint(render_error)
async def create_chat_completion(request: Request, services: Services, principal: Principal) -> Response:
    body = await read_json(request, services.settings.max_body_bytes)
    canonical, route = await _prepare(services, principal, body)
    include_usage = decode_stream_options(body)
    events = generate(route, canonical)
    completion_id = random_id("chatcmpl-")
    created = int(time.time())
    if not canonical.stream:
        result = await unless_client_leaves(request, afold(events), events)
        return JSONResponse(
            encode_result(result, id=completion_id, model=canonical.model, created=created)
        )
    first = await unless_client_leaves(request, first_event(events), events)
    encoder = ChunkEncoder(
        id=completion_id, model=canonical.model, created=created, include_usage=include_usage
    )
    keepalive = services.settings.stream_keepalive_seconds
    return sse_response(openai_frames(first, events, encoder, keepalive))
