"""The Responses API: /v1/responses and its sub-resources."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from switchyard.codecs.openai_responses import decode_request
from switchyard.core.errors import invalid
from switchyard.engine.responses.compact import compact
from switchyard.engine.responses.model_request import context_items, model_request
from switchyard.engine.responses.service import ResponsesService
from switchyard.gateway.auth import Principal
from switchyard.surfaces.context import Services, allow_model, endpoint
from switchyard.surfaces.disconnect import unless_client_leaves
from switchyard.surfaces.http import JSONResponse, read_json, sse_frame, sse_response
from switchyard.surfaces.limits import check_tools
from switchyard.surfaces.openai.errors import render_error
from switchyard.surfaces.pagination import list_body, page_params
from switchyard.surfaces.streaming import with_keepalive

KEEPALIVE_FRAME = b": keep-alive\n\n"
DONE_FRAME = b"data: [DONE]\n\n"


def _check_tools(body: dict[str, Any], services: Services) -> None:
    settings = services.settings
    check_tools(body, settings.max_tools_per_request, settings.max_mcp_servers_per_request)


def _service(services: Services) -> ResponsesService:
    return services.responses  # type: ignore[attr-defined,no-any-return]


async def _frames(events: AsyncIterator[dict[str, Any]], keepalive: float) -> AsyncIterator[bytes]:
    """Each event under its ``type`` as the SSE event name; a finished stream ends with the
    ``[DONE]`` line Open Responses requires (the OpenAI SDKs stop reading there)."""
    async for event in with_keepalive(None, events, keepalive):  # type: ignore[arg-type]
        if event is None:
            yield KEEPALIVE_FRAME
        else:
            yield sse_frame(event, event["type"])  # type: ignore[index]
    yield DONE_FRAME


async def answer(services: Services, principal: Principal, body: dict[str, Any]) -> dict[str, Any]:
    """A whole foreground response for ``body`` (a batch line's), stored as its ``store`` says."""
    _check_tools(body, services)
    call = decode_request(body)
    if call.background:
        raise invalid("A batch request runs in the batch; leave 'background' out.", "background")
    service = _service(services)
    allow_model(services, principal, call.model)
    prepared = await service.prepare(call, principal.owner_id, body)
    return await service.run_foreground(prepared)


@endpoint(render_error)
async def create_response(request: Request, services: Services, principal: Principal) -> Response:
    body = await read_json(request, services.settings.max_body_bytes)
    _check_tools(body, services)
    call = decode_request(body)
    service = _service(services)
    allow_model(services, principal, call.model)
    prepared = await service.prepare(call, principal.owner_id, body)
    keepalive = services.settings.stream_keepalive_seconds
    if call.background:
        queued = await service.queue_background(prepared)
        if not call.stream:
            return JSONResponse(queued)
        events = await service.follow(prepared.response_id, principal.owner_id, None)
        return sse_response(_frames(events, keepalive))
    if not call.stream:
        return JSONResponse(await unless_client_leaves(request, service.run_foreground(prepared)))
    events = await unless_client_leaves(request, service.stream_foreground(prepared))
    return sse_response(_frames(events, keepalive))


@endpoint(render_error)
async def get_response(request: Request, services: Services, principal: Principal) -> Response:
    response_id = request.path_params["response_id"]
    service = _service(services)
    if request.query_params.get("stream") in ("true", "True", "1"):
        raw_after = request.query_params.get("starting_after")
        if raw_after is not None and not raw_after.lstrip("-").isdigit():
            raise invalid("'starting_after' must be an integer.", "starting_after")
        after = int(raw_after) if raw_after is not None else None
        events = await service.follow(response_id, principal.owner_id, after)
        return sse_response(_frames(events, services.settings.stream_keepalive_seconds))
    record = await service.get(response_id, principal.owner_id)
    return JSONResponse(record.body)


@endpoint(render_error)
async def delete_response(request: Request, services: Services, principal: Principal) -> Response:
    response_id = request.path_params["response_id"]
    await _service(services).delete(response_id, principal.owner_id)
    return JSONResponse({"id": response_id, "object": "response", "deleted": True})


@endpoint(render_error)
async def cancel_response(request: Request, services: Services, principal: Principal) -> Response:
    body = await _service(services).cancel(request.path_params["response_id"], principal.owner_id)
    return JSONResponse(body)


@endpoint(render_error)
async def list_input_items(request: Request, services: Services, principal: Principal) -> Response:
    response_id = request.path_params["response_id"]
    after, limit, order = page_params(request)
    service = _service(services)
    await service.get(response_id, principal.owner_id)
    items, has_more = await service.responses.input_items(response_id, principal.owner_id, after=after,
                                                          limit=limit, order=order)
    return JSONResponse(list_body(items, has_more))


@endpoint(render_error)
async def count_input_tokens(request: Request, services: Services, principal: Principal) -> Response:
    body = await read_json(request, services.settings.max_body_bytes)
    _check_tools(body, services)
    if "model" not in body:
        raise invalid("'model' is required to count tokens.", "model")
    call = decode_request(body)
    service = _service(services)
    allow_model(services, principal, call.model)
    prepared = await service.prepare(call, principal.owner_id, body)
    items = context_items(call, prepared.history, prepared.input_items)
    canonical = model_request(call, items, list(call.function_tools))
    count = await prepared.route.provider.count_tokens(canonical)
    return JSONResponse({"object": "response.input_tokens", "input_tokens": count})


@endpoint(render_error)
async def compact_response(request: Request, services: Services, principal: Principal) -> Response:
    body = await read_json(request, services.settings.max_body_bytes)
    _check_tools(body, services)
    call = decode_request(body)
    allow_model(services, principal, call.model)
    prepared = await _service(services).prepare(call, principal.owner_id, body)
    return JSONResponse(await unless_client_leaves(request, compact(prepared, services.file_inputs)))


ROUTES: list[Route] = [
    Route("/v1/responses", create_response, methods=["POST"]),
    Route("/v1/responses/input_tokens", count_input_tokens, methods=["POST"]),
    Route("/v1/responses/compact", compact_response, methods=["POST"]),
    Route("/v1/responses/{response_id}", get_response, methods=["GET"]),
    Route("/v1/responses/{response_id}", delete_response, methods=["DELETE"]),
    Route("/v1/responses/{response_id}/cancel", cancel_response, methods=["POST"]),
    Route("/v1/responses/{response_id}/input_items", list_input_items, methods=["GET"]),
]
