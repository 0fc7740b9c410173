"""/v1/assistants: create, list, retrieve, modify, delete."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from switchyard.codecs.openai_assistants.assistant_in import decode_assistant
from switchyard.codecs.openai_assistants.objects_out import assistant_object, deleted_object
from switchyard.gateway.auth import Principal
from switchyard.surfaces.context import Services, allow_model, endpoint
from switchyard.surfaces.http import JSONResponse, read_json
from switchyard.surfaces.openai.assistants_common import page_of, service
from switchyard.surfaces.openai.errors import render_error
from switchyard.surfaces.pagination import list_body


@endpoint(render_error)
async def create_assistant(request: Request, services: Services, principal: Principal) -> Response:
    given = decode_assistant(await read_json(request, services.settings.max_body_bytes), create=True)
    allow_model(services, principal, given.fields["model"])
    record = await service(services).create_assistant(principal.owner_id, given)
    return JSONResponse(assistant_object(record.body))


@endpoint(render_error)
async def list_assistants(request: Request, services: Services, principal: Principal) -> Response:
    records, has_more = await service(services).list_assistants(principal.owner_id, page_of(request))
    return JSONResponse(list_body([assistant_object(r.body) for r in records], has_more))


@endpoint(render_error)
async def get_assistant(request: Request, services: Services, principal: Principal) -> Response:
    record = await service(services).get_assistant(principal.owner_id, request.path_params["assistant_id"])
    return JSONResponse(assistant_object(record.body))


@endpoint(render_error)
async def modify_assistant(request: Request, services: Services, principal: Principal) -> Response:
    given = decode_assistant(await read_json(request, services.settings.max_body_bytes, allow_empty=True),
                             create=False)
    if "model" in given.fields:
        allow_model(services, principal, given.fields["model"])
    record = await service(services).modify_assistant(principal.owner_id, request.path_params["assistant_id"],
                                                      given)
    return JSONResponse(assistant_object(record.body))


@endpoint(render_error)
async def delete_assistant(request: Request, services: Services, principal: Principal) -> Response:
    assistant_id = request.path_params["assistant_id"]
    await service(services).delete_assistant(principal.owner_id, assistant_id)
    return JSONResponse(deleted_object(assistant_id, "assistant"))


ROUTES: list[Route] = [
    Route("/v1/assistants", create_assistant, methods=["POST"]),
    Route("/v1/assistants", list_assistants, methods=["GET"]),
    Route("/v1/assistants/{assistant_id}", get_assistant, methods=["GET"]),
    Route("/v1/assistants/{assistant_id}", modify_assistant, methods=["POST"]),
    Route("/v1/assistants/{assistant_id}", delete_assistant, methods=["DELETE"]),
]
