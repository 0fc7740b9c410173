"""/v1/threads: create (with messages and tool_resources), retrieve, modify, delete.
(Runs, and ``/v1/threads/runs``, are served by the runs surfaces.)"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from switchyard.codecs.openai_assistants.objects_out import deleted_object, thread_object
from switchyard.codecs.openai_assistants.thread_in import decode_thread
from switchyard.gateway.auth import Principal
from switchyard.store.threads import ThreadRecord
from switchyard.surfaces.context import Services, endpoint
from switchyard.surfaces.http import JSONResponse, read_json
from switchyard.surfaces.openai.assistants_common import service
from switchyard.surfaces.openai.errors import render_error


def thread_body(record: ThreadRecord) -> dict[str, object]:
    return thread_object(record.id, record.created_at, record.tool_resources, record.metadata)


@endpoint(render_error)
async def create_thread(request: Request, services: Services, principal: Principal) -> Response:
    body = await read_json(request, services.settings.max_body_bytes, allow_empty=True)
    record, _ = await service(services).create_thread(principal.owner_id, decode_thread(body, create=True))
    return JSONResponse(thread_body(record))


@endpoint(render_error)
async def get_thread(request: Request, services: Services, principal: Principal) -> Response:
    record = await service(services).get_thread(principal.owner_id, request.path_params["thread_id"])
    return JSONResponse(thread_body(record))


@endpoint(render_error)
async def modify_thread(request: Request, services: Services, principal: Principal) -> Response:
    body = await read_json(request, services.settings.max_body_bytes, allow_empty=True)
    record = await service(services).modify_thread(principal.owner_id, request.path_params["thread_id"],
                                                   decode_thread(body, create=False))
    return JSONResponse(thread_body(record))


@endpoint(render_error)
async def delete_thread(request: Request, services: Services, principal: Principal) -> Response:
    thread_id = request.path_params["thread_id"]
    await service(services).delete_thread(principal.owner_id, thread_id)
    return JSONResponse(deleted_object(thread_id, "thread"))


ROUTES: list[Route] = [
    Route("/v1/threads", create_thread, methods=["POST"]),
    Route("/v1/threads/{thread_id}", get_thread, methods=["GET"]),
    Route("/v1/threads/{thread_id}", modify_thread, methods=["POST"]),
    Route("/v1/threads/{thread_id}", delete_thread, methods=["DELETE"]),
]
