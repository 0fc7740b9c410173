"""The Batch API: /v1/batches."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from switchyard.codecs.openai_batches import batch_body, decode_create
from switchyard.gateway.auth import Principal
from switchyard.surfaces.context import Services, endpoint
from switchyard.surfaces.http import JSONResponse, read_json
from switchyard.surfaces.openai.errors import render_error
from switchyard.surfaces.pagination import list_body, page_params


@endpoint(render_error)
async def create_batch(request: Request, services: Services, principal: Principal) -> Response:
    body = await read_json(request, services.settings.max_body_bytes)
    batch = await services.batches.create_openai(principal, decode_create(body))
    return JSONResponse(batch_body(batch))


@endpoint(render_error)
async def get_batch(request: Request, services: Services, principal: Principal) -> Response:
    batch = await services.batches.get(request.path_params["batch_id"], principal.owner_id, "openai")
    return JSONResponse(batch_body(batch))


@endpoint(render_error)
async def cancel_batch(request: Request, services: Services, principal: Principal) -> Response:
    batch = await services.batches.cancel(request.path_params["batch_id"], principal.owner_id, "openai")
    return JSONResponse(batch_body(batch))


@endpoint(render_error)
async def list_batches(request: Request, services: Services, principal: Principal) -> Response:
    after, limit, _ = page_params(request)
    batches, has_more = await services.batches.list(principal.owner_id, "openai", limit=limit, after=after)
    return JSONResponse(list_body([batch_body(b) for b in batches], has_more))


ROUTES: list[Route] = [
    Route("/v1/batches", create_batch, methods=["POST"]),
    Route("/v1/batches", list_batches, methods=["GET"]),
    Route("/v1/batches/{batch_id}", get_batch, methods=["GET"]),
    Route("/v1/batches/{batch_id}/cancel", cancel_batch, methods=["POST"]),
]
