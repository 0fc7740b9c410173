"""POST /v1/rerank (and /rerank): the Jina/Cohere rerank API, errors in OpenAI's envelope."""

from __future__ import annotations

import uuid

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from switchyard.codecs.rerank import decode_request, encode_response
from switchyard.core.usage import Usage
from switchyard.gateway.auth import Principal
from switchyard.gateway.turn_watch import admit_call, note_usage, text_tokens
from switchyard.surfaces.context import Services, allow_model, endpoint
from switchyard.surfaces.http import JSONResponse, read_json
from switchyard.surfaces.openai.errors import render_error


@endpoint(render_error)
async def rerank(request: Request, services: Services, principal: Principal) -> Response:
    body = await read_json(request, services.settings.max_body_bytes)
    call = decode_request(body)
    allow_model(services, principal, call.model)
    reranker = services.embeddings.reranker(call.model)
    await admit_call(call.model, text_tokens([call.query, *call.documents]))
    result = await reranker.rerank(call.query, call.documents, call.top_n)
    note_usage(Usage(input_tokens=result.input_tokens))
    return JSONResponse(
        encode_response(call, result.results, id=str(uuid.uuid4()), input_tokens=result.input_tokens)
    )


ROUTES: list[Route] = [
    Route("/v1/rerank", rerank, methods=["POST"]),
    Route("/rerank", rerank, methods=["POST"]),
]
