"""/v1/threads/{thread_id}/messages: create, list (``run_id`` filter), retrieve,
modify, delete."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from switchyard.codecs.openai_assistants.message_in import decode_message
from switchyard.codecs.openai_assistants.objects_out import deleted_object
from switchyard.codecs.openai_assistants.thread_in import decode_message_update
from switchyard.gateway.auth import Principal
from switchyard.surfaces.context import Services, endpoint
from switchyard.surfaces.http import JSONResponse, read_json
from switchyard.surfaces.openai.assistants_common import page_of, service
from switchyard.surfaces.openai.errors import render_error
from switchyard.surfaces.pagination import list_body


@endpoint(render_error)
async def create_message(request: Request, services: Services, principal: Principal) -> Response:
    given = decode_message(await read_json(request, services.settings.max_body_bytes))
    record = await service(services).create_message(principal.owner_id, request.path_params["thread_id"], given)
    return JSONResponse(record.body)


@endpoint(render_error)
async def list_messages(request: Request, services: Services, principal: Principal) -> Response:
    page = page_of(request)
    run_id = request.query_params.get("run_id") or None
    records, has_more = await service(services).list_messages(principal.owner_id, request.path_params["thread_id"],
                                                              page, run_id)
    return JSONResponse(list_body([r.body for r in records], has_more))


@endpoint(render_error)
async def get_message(request: Request, services: Services, principal: Principal) -> Response:
    record = await service(services).get_message(principal.owner_id, request.path_params["thread_id"],
                                                 request.path_params["message_id"])
    return JSONResponse(record.body)


@endpoint(render_error)
async def modify_message(request: Request, services: Services, principal: Principal) -> Response:
    metadata = decode_message_update(await read_json(request, services.settings.max_body_bytes, allow_empty=True))
    record = await service(services).modify_message(principal.owner_id, request.path_params["thread_id"],
                                                    request.path_params["message_id"], metadata)
    return JSONResponse(record.body)


@endpoint(render_error)
async def delete_message(request: Request, services: Services, principal: Principal) -> Response:
    message_id = request.path_params["message_id"]
    await service(services).delete_message(principal.owner_id, request.path_params["thread_id"], message_id)
    return JSONResponse(deleted_object(message_id, "thread.message"))


ROUTES: list[Route] = [
    Route("/v1/threads/{thread_id}/messages", create_message, methods=["POST"]),
    Route("/v1/threads/{thread_id}/messages", list_messages, methods=["GET"]),
    Route("/v1/threads/{thread_id}/messages/{message_id}", get_message, methods=["GET"]),
    Route("/v1/threads/{thread_id}/messages/{message_id}", modify_message, methods=["POST"]),
    Route("/v1/threads/{thread_id}/messages/{message_id}", delete_message, methods=["DELETE"]),
]
