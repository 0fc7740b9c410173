"""Message Batches: /v1/messages/batches."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from switchyard.codecs.anthropic_batches import batch_body, decode_create, result_line
from switchyard.core.errors import invalid
from switchyard.gateway.auth import Principal
from switchyard.store.batches import BatchRecord
from switchyard.surfaces.anthropic.errors import render_error
from switchyard.surfaces.context import Services, endpoint, public_base_url
from switchyard.surfaces.http import JSONResponse, read_json

MAX_PAGE = 1000


def _body(base_url: str, batch: BatchRecord) -> dict[str, object]:
    results_url = base_url.rstrip("/") + f"/v1/messages/batches/{batch.id}/results"
    return batch_body(batch, results_url)


@endpoint(render_error)
async def create_batch(request: Request, services: Services, principal: Principal) -> Response:
    body = await read_json(request, services.settings.max_body_bytes)
    lines = decode_create(body, services.settings.batches.max_lines)
    batch = await services.batches.create_anthropic(principal, lines)
    return JSONResponse(_body(public_base_url(request, services), batch))


@endpoint(render_error)
async def get_batch(request: Request, services: Services, principal: Principal) -> Response:
    batch = await services.batches.get(request.path_params["batch_id"], principal.owner_id, "anthropic")
    return JSONResponse(_body(public_base_url(request, services), batch))


@endpoint(render_error)
async def cancel_batch(request: Request, services: Services, principal: Principal) -> Response:
    batch = await services.batches.cancel(request.path_params["batch_id"], principal.owner_id, "anthropic")
    return JSONResponse(_body(public_base_url(request, services), batch))


@endpoint(render_error)
async def delete_batch(request: Request, services: Services, principal: Principal) -> Response:
    batch_id = request.path_params["batch_id"]
    await services.batches.delete(batch_id, principal.owner_id, "anthropic")
    return JSONResponse({"id": batch_id, "type": "message_batch_deleted"})


@endpoint(render_error)
async def batch_results(request: Request, services: Services, principal: Principal) -> Response:
    lines = await services.batches.results(request.path_params["batch_id"], principal.owner_id, "anthropic",
                                           result_line)
    return StreamingResponse(lines, media_type="application/x-jsonl")


def _limit(request: Request) -> int:
    raw = request.query_params.get("limit", "20")
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_PAGE:
        raise invalid(f"limit: Input should be an integer between 1 and {MAX_PAGE}", "limit")
    return int(raw)


@endpoint(render_error)
async def list_batches(request: Request, services: Services, principal: Principal) -> Response:
    query = request.query_params
    after, before = query.get("after_id") or None, query.get("before_id") or None
    if after and before:
        raise invalid("after_id and before_id cannot be given together", "after_id")
    batches, has_more = await services.batches.list(principal.owner_id, "anthropic", limit=_limit(request),
                                                    after=after, before=before)
    base_url = public_base_url(request, services)
    data = [_body(base_url, b) for b in batches]
    return JSONResponse({"data": data, "has_more": has_more, "first_id": data[0]["id"] if data else None,
                         "last_id": data[-1]["id"] if data else None})


ROUTES: list[Route] = [
    Route("/v1/messages/batches", create_batch, methods=["POST"]),
    Route("/v1/messages/batches", list_batches, methods=["GET"]),
    Route("/v1/messages/batches/{batch_id}", get_batch, methods=["GET"]),
    Route("/v1/messages/batches/{batch_id}", delete_batch, methods=["DELETE"]),
    Route("/v1/messages/batches/{batch_id}/cancel", cancel_batch, methods=["POST"]),
    Route("/v1/messages/batches/{batch_id}/results", batch_results, methods=["GET"]),
]
