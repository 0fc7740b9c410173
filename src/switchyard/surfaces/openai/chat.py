"""POST /v1/chat/completions."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

from starlette.requests import Request
from starlette.responses import Response

from switchyard.codecs.openai_chat import ChunkEncoder, decode_request, encode_result
from switchyard.core.events import Failure
from switchyard.core.result import afold
from switchyard.engine.generation import generate
from switchyard.gateway.auth import Principal
from switchyard.surfaces.context import Services, endpoint
from switchyard.surfaces.http import JSONResponse, read_json, sse_frame, sse_response
from switchyard.surfaces.ids import random_id
from switchyard.surfaces.openai.errors import render_error
from switchyard.surfaces.streaming import first_event, with_keepalive

DONE = b"data: [DONE]\n\n"
KEEPALIVE_FRAME = b": keep-alive\n\n"


@endpoint(render_error)
async def create_chat_completion(request: Request, services: Services, principal: Principal) -> Response:
    body = await read_json(request, services.settings.max_body_bytes)
    call = decode_request(body)
    canonical = call.request
    route = services.models.resolve(canonical.model)
    events = generate(route, canonical)
    completion_id = random_id("chatcmpl-")
    created = int(time.time())
    if not canonical.stream:
        result = await afold(events)
        return JSONResponse(
            encode_result(result, id=completion_id, model=canonical.model, created=created)
        )
    first = await first_event(events)
    encoder = ChunkEncoder(
        id=completion_id, model=canonical.model, created=created, include_usage=call.include_usage
    )

    async def frames() -> AsyncIterator[bytes]:
        keepalive = services.settings.stream_keepalive_seconds
        async for event in with_keepalive(first, events, keepalive):
            if event is None:
                yield KEEPALIVE_FRAME
                continue
            for chunk in encoder.feed(event):
                yield sse_frame(chunk)
            if isinstance(event, Failure):
                return
        for chunk in encoder.close():
            yield sse_frame(chunk)
        yield DONE

    return sse_response(frames())
