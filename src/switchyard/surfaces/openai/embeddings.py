"""POST /v1/embeddings."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from switchyard.codecs.openai_embeddings import decode_request, encode_response
from switchyard.core.usage import Usage
from switchyard.gateway.auth import Principal
from switchyard.gateway.turn_watch import admit_call, note_usage, text_tokens
from switchyard.surfaces.context import Services, allow_model, endpoint
from switchyard.surfaces.http import JSONResponse, read_json
from switchyard.surfaces.openai.errors import render_error


async def answer(services: Services, principal: Principal, body: dict[str, Any]) -> dict[str, Any]:
    """The embeddings of ``body`` (the endpoint's answer, and a batch line's)."""
    call = decode_request(body)
    allow_model(services, principal, call.model)
    embedder = services.embeddings.embedder(call.model)
    await admit_call(call.model, text_tokens(call.texts))
    result = await embedder.embed(call.texts, call.dimensions)
    note_usage(Usage(input_tokens=result.input_tokens))
    return encode_response(result.vectors, model=call.model, input_tokens=result.input_tokens,
                           encoding_format=call.encoding_format)


@endpoint(render_error)
async def create_embedding(request: Request, services: Services, principal: Principal) -> Response:
    body = await read_json(request, services.settings.max_body_bytes)
    return JSONResponse(await answer(services, principal, body))


ROUTES: list[Route] = [
    Route("/v1/embeddings", create_embedding, methods=["POST"]),
]
