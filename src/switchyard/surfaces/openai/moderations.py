"""POST /v1/moderations."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from switchyard.codecs.openai_moderations import decode_request, encode_response
from switchyard.gateway.auth import Principal, require_model
from switchyard.gateway.turn_watch import admit_call, text_tokens
from switchyard.surfaces.context import Services, endpoint
from switchyard.surfaces.http import JSONResponse, read_json
from switchyard.surfaces.ids import random_id
from switchyard.surfaces.openai.errors import render_error


@endpoint(render_error)
async def create_moderation(request: Request, services: Services, principal: Principal) -> Response:
    body = await read_json(request, services.settings.max_body_bytes)
    call = decode_request(body)
    name = services.moderation.name_for(call.model)
    config = services.moderation.config(name)
    require_model(principal, name, config.name)
    await admit_call(config.name, text_tokens([i.text for i in call.inputs if i.texts]) or 1)
    config, verdicts = await services.moderation.moderate(name, call.inputs, call.wire_input)
    return JSONResponse(encode_response(random_id("modr-"), config.name, verdicts))


ROUTES: list[Route] = [
    Route("/v1/moderations", create_moderation, methods=["POST"]),
]
