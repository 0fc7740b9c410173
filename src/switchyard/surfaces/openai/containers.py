"""Containers: /v1/containers and /v1/containers/{id}/files, over ``ContainerService``.

A container is a sandbox session of the caller's project (docs/sandbox.md); its files are
uploaded (multipart ``file``) or copied from the Files API (JSON ``file_id``), and the
files its code writes appear here too. Another project's container or file is a 404."""

from __future__ import annotations

import time
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from switchyard.core.errors import invalid
from switchyard.engine.containers.service import Container, ContainerFile
from switchyard.gateway.auth import Principal
from switchyard.surfaces.context import Services, endpoint
from switchyard.surfaces.http import JSONResponse, read_json
from switchyard.surfaces.multipart import form_parts
from switchyard.surfaces.openai.errors import render_error
from switchyard.surfaces.openai.files import _attachment, clean_filename
from switchyard.surfaces.pagination import list_body, page_params

MAX_NAME = 256
MAX_MINUTES = 24 * 60
MEMORY_LIMITS = ("1g", "4g", "16g", "64g")


def container_body(c: Container) -> dict[str, Any]:
    return {"id": c.id, "object": "container", "created_at": c.created_at, "name": c.name,
            "status": c.status(time.time()), "last_active_at": c.last_active_at,
            "expires_after": {"anchor": "last_active_at", "minutes": c.minutes}, "memory_limit": c.memory_limit}


def file_body(f: ContainerFile) -> dict[str, Any]:
    return {"id": f.id, "object": "container.file", "bytes": f.bytes, "container_id": f.container_id,
            "created_at": f.created_at, "path": f.path, "source": f.source}


def _page(items: list[dict[str, Any]], request: Request) -> dict[str, Any]:
    after, limit, order = page_params(request)
    if order == "desc":
        items = items[::-1]
    if after is not None:
        ids = [i["id"] for i in items]
        items = items[ids.index(after) + 1:] if after in ids else []
    return list_body(items[:limit], len(items) > limit)


def _expires_minutes(value: Any) -> int:
    if value is None:
        return 20
    if not isinstance(value, dict):
        raise invalid("'expires_after' must be an object with 'anchor' and 'minutes'.", "expires_after")
    if value.get("anchor") != "last_active_at":
        raise invalid("'expires_after.anchor' must be 'last_active_at'.", "expires_after.anchor")
    minutes = value.get("minutes")
    if not isinstance(minutes, int) or isinstance(minutes, bool) or not 1 <= minutes <= MAX_MINUTES:
        raise invalid(f"'expires_after.minutes' must be an integer between 1 and {MAX_MINUTES}.",
                      "expires_after.minutes")
    return minutes


@endpoint(render_error)
async def create_container(request: Request, services: Services, principal: Principal) -> Response:
    body = await read_json(request, services.settings.max_body_bytes)
    name = body.get("name")
    if not isinstance(name, str) or not name.strip() or len(name) > MAX_NAME:
        raise invalid(f"'name' is required: a string of 1 to {MAX_NAME} characters.", "name")
    file_ids = body.get("file_ids") or []
    if not isinstance(file_ids, list) or not all(isinstance(i, str) and i for i in file_ids):
        raise invalid("'file_ids' must be an array of file ids.", "file_ids")
    memory = body.get("memory_limit") or "1g"
    if memory not in MEMORY_LIMITS:
        raise invalid(f"'memory_limit' must be one of {', '.join(MEMORY_LIMITS)}.", "memory_limit")
    policy = body.get("network_policy")
    if policy is not None and (not isinstance(policy, dict) or policy.get("type") != "disabled"):
        raise invalid("'network_policy' can only be {\"type\": \"disabled\"}: sandboxes have no network.",
                      "network_policy")
    container = await services.containers.create(principal.owner_id, name.strip(), file_ids=file_ids,
                                                 minutes=_expires_minutes(body.get("expires_after")),
                                                 memory_limit=memory)
    return JSONResponse(container_body(container))


@endpoint(render_error)
async def list_containers(request: Request, services: Services, principal: Principal) -> Response:
    name = request.query_params.get("name")
    containers = [c for c in services.containers.list(principal.owner_id) if name is None or c.name == name]
    return JSONResponse(_page([container_body(c) for c in containers], request))


@endpoint(render_error)
async def get_container(request: Request, services: Services, principal: Principal) -> Response:
    container = services.containers.get(principal.owner_id, request.path_params["container_id"])
    return JSONResponse(container_body(container))


@endpoint(render_error)
async def delete_container(request: Request, services: Services, principal: Principal) -> Response:
    container = await services.containers.delete(principal.owner_id, request.path_params["container_id"])
    return JSONResponse({"id": container.id, "object": "container.deleted", "deleted": True})


@endpoint(render_error)
async def create_file(request: Request, services: Services, principal: Principal) -> Response:
    container_id = request.path_params["container_id"]
    limit = services.settings.sandbox.file_mb * 1024**2
    if request.headers.get("content-type", "").startswith("multipart/form-data"):
        services.containers.get(principal.owner_id, container_id)  # 404 before reading an upload
        filename, data = None, None
        async for part, chunks in form_parts(request):
            if part.name == "file":
                if data is not None:
                    raise invalid("Send one 'file' per request.", "file")
                filename = clean_filename(part.filename or "file", "file")
                buffer = bytearray()
                async for chunk in chunks:
                    buffer += chunk
                    if len(buffer) > limit:
                        raise invalid(f"'file' is larger than {limit} bytes.", "file")
                data = bytes(buffer)
            elif part.name != "file_id":
                raise invalid(f"Unknown field '{part.name}'; expected file.", part.name)
        if data is None or filename is None:
            raise invalid("'file' is required (or send JSON with 'file_id').", "file")
        file = await services.containers.add_file(principal.owner_id, container_id, filename=filename, data=data)
    else:
        body = await read_json(request, services.settings.max_body_bytes)
        file_id = body.get("file_id")
        if not isinstance(file_id, str) or not file_id:
            raise invalid("'file_id' is required (or send 'file' as multipart/form-data).", "file_id")
        file = await services.containers.add_file(principal.owner_id, container_id, file_id=file_id)
    return JSONResponse(file_body(file))


@endpoint(render_error)
async def list_files(request: Request, services: Services, principal: Principal) -> Response:
    files = await services.containers.files(principal.owner_id, request.path_params["container_id"])
    return JSONResponse(_page([file_body(f) for f in files], request))


@endpoint(render_error)
async def get_file(request: Request, services: Services, principal: Principal) -> Response:
    file = services.containers.file(principal.owner_id, request.path_params["container_id"],
                                    request.path_params["file_id"])
    return JSONResponse(file_body(file))


@endpoint(render_error)
async def get_file_content(request: Request, services: Services, principal: Principal) -> Response:
    file, data, mime = await services.containers.content(principal.owner_id, request.path_params["container_id"],
                                                         request.path_params["file_id"])
    headers = {"Content-Disposition": _attachment(file.path.rsplit("/", 1)[-1]), "X-Content-Type-Options": "nosniff"}
    return Response(data, media_type=mime, headers=headers)


@endpoint(render_error)
async def delete_file(request: Request, services: Services, principal: Principal) -> Response:
    file = await services.containers.delete_file(principal.owner_id, request.path_params["container_id"],
                                                 request.path_params["file_id"])
    return JSONResponse({"id": file.id, "object": "container.file.deleted", "deleted": True})


ROUTES: list[Route] = [
    Route("/v1/containers", create_container, methods=["POST"]),
    Route("/v1/containers", list_containers, methods=["GET"]),
    Route("/v1/containers/{container_id}", get_container, methods=["GET"]),
    Route("/v1/containers/{container_id}", delete_container, methods=["DELETE"]),
    Route("/v1/containers/{container_id}/files", create_file, methods=["POST"]),
    Route("/v1/containers/{container_id}/files", list_files, methods=["GET"]),
    Route("/v1/containers/{container_id}/files/{file_id}", get_file, methods=["GET"]),
    Route("/v1/containers/{container_id}/files/{file_id}", delete_file, methods=["DELETE"]),
    Route("/v1/containers/{container_id}/files/{file_id}/content", get_file_content, methods=["GET"]),
]
