"""/v1/vector_stores/{id}/files and /file_batches: attach, list, update, detach,
read chunks; batches of files ingested together."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from switchyard.codecs.openai_chat.fields import no_nul
from switchyard.core.errors import invalid
from switchyard.gateway.auth import Principal
from switchyard.retrieval.chunking import parse_chunking_strategy
from switchyard.retrieval.filters import validate_attributes
from switchyard.store.files import FileRepository
from switchyard.store.vector_store_chunks import ChunkIndex
from switchyard.store.vector_stores import NewFile, VectorStoreRepository
from switchyard.surfaces.context import Services, endpoint
from switchyard.surfaces.http import JSONResponse, read_json
from switchyard.surfaces.openai.errors import render_error
from switchyard.surfaces.openai.vector_store_shapes import (
    batch_body,
    file_body,
    file_not_found,
    store_not_found,
    string_list,
)
from switchyard.surfaces.pagination import list_body, page_params

FILE_STATUSES = ("in_progress", "completed", "failed", "cancelled")


def _repo(services: Services) -> VectorStoreRepository:
    return VectorStoreRepository(services.database)


async def new_files(services: Services, owner_id: str, file_ids: list[str], strategy: dict[str, Any],
                    attributes: dict[str, Any], param: str = "file_ids") -> list[NewFile]:
    """The uploaded files to attach; one the owner does not have answers 404 naming it."""
    files = FileRepository(services.database)
    out: list[NewFile] = []
    for index, file_id in enumerate(file_ids):
        record = await files.get(file_id, owner_id)
        if record is None:
            raise file_not_found(file_id, f"{param}[{index}]")
        out.append(NewFile(file_id=file_id, filename=record.filename, chunking_strategy=strategy,
                           attributes=dict(attributes)))
    return out


def _status_filter(request: Request) -> str | None:
    status = request.query_params.get("filter")
    if status is not None and status not in FILE_STATUSES:
        raise invalid(f"'filter' must be one of {', '.join(FILE_STATUSES)}.", "filter")
    return status


@endpoint(render_error)
async def attach_file(request: Request, services: Services, principal: Principal) -> Response:
    store_id = request.path_params["vector_store_id"]
    body = await read_json(request, services.settings.max_body_bytes)
    file_id = body.get("file_id")
    if not isinstance(file_id, str) or not file_id:
        raise invalid("'file_id' is required.", "file_id")
    no_nul(file_id, "file_id")
    attributes = validate_attributes(body.get("attributes") or {})
    strategy = parse_chunking_strategy(body.get("chunking_strategy"))
    [new] = await new_files(services, principal.owner_id, [file_id], strategy, attributes, "file_id")
    record = await _repo(services).add_file(store_id, principal.owner_id, new)
    if record is None:
        raise store_not_found(store_id)
    services.retrieval.ingester.wake()
    return JSONResponse(file_body(record))


@endpoint(render_error)
async def list_files(request: Request, services: Services, principal: Principal) -> Response:
    store_id = request.path_params["vector_store_id"]
    after, limit, order = page_params(request)
    page = await _repo(services).list_files(store_id, principal.owner_id, status=_status_filter(request),
                                            limit=limit, order=order, after=after,
                                            before=request.query_params.get("before") or None)
    if page is None:
        raise store_not_found(store_id)
    records, has_more = page
    return JSONResponse(list_body([file_body(r) for r in records], has_more))


@endpoint(render_error)
async def get_file(request: Request, services: Services, principal: Principal) -> Response:
    store_id, file_id = request.path_params["vector_store_id"], request.path_params["file_id"]
    record = await _repo(services).get_file(store_id, file_id, principal.owner_id)
    if record is None:
        raise file_not_found(file_id)
    return JSONResponse(file_body(record))


@endpoint(render_error)
async def update_file(request: Request, services: Services, principal: Principal) -> Response:
    store_id, file_id = request.path_params["vector_store_id"], request.path_params["file_id"]
    body = await read_json(request, services.settings.max_body_bytes)
    if "attributes" not in body:
        raise invalid("'attributes' is required.", "attributes")
    attributes = validate_attributes(body["attributes"] or {})
    record = await _repo(services).update_file_attributes(store_id, file_id, principal.owner_id, attributes)
    if record is None:
        raise file_not_found(file_id)
    return JSONResponse(file_body(record))


@endpoint(render_error)
async def delete_file(request: Request, services: Services, principal: Principal) -> Response:
    store_id, file_id = request.path_params["vector_store_id"], request.path_params["file_id"]
    if not await _repo(services).delete_file(store_id, file_id, principal.owner_id):
        raise file_not_found(file_id)
    return JSONResponse({"id": file_id, "object": "vector_store.file.deleted", "deleted": True})


@endpoint(render_error)
async def file_content(request: Request, services: Services, principal: Principal) -> Response:
    store_id, file_id = request.path_params["vector_store_id"], request.path_params["file_id"]
    chunks = await ChunkIndex(services.database).file_chunks(store_id, file_id, principal.owner_id)
    if chunks is None:
        raise file_not_found(file_id)
    data = [{"type": "text", "text": chunk.text} for chunk in chunks]
    return JSONResponse({"object": "vector_store.file_content.page", "data": data, "has_more": False,
                         "next_page": None})


def _batch_files(body: dict[str, Any]) -> tuple[list[str], list[dict[str, Any]]]:
    """(file ids, per-file overrides) from ``file_ids`` or ``files``, not both."""
    if "files" in body and body["files"] is not None:
        if "file_ids" in body and body["file_ids"] is not None:
            raise invalid("Give either 'file_ids' or 'files', not both.", "files")
        raw = body["files"]
        if not isinstance(raw, list) or not raw:
            raise invalid("'files' must be a non-empty array.", "files")
        ids: list[str] = []
        for index, entry in enumerate(raw):
            if not isinstance(entry, dict) or not isinstance(entry.get("file_id"), str):
                raise invalid(f"'files[{index}].file_id' is required.", f"files[{index}].file_id")
            ids.append(entry["file_id"])
        return ids, raw
    ids = string_list(body, "file_ids")
    if not ids:
        raise invalid("'file_ids' must be a non-empty array of file ids.", "file_ids")
    return ids, [{} for _ in ids]


@endpoint(render_error)
async def create_batch(request: Request, services: Services, principal: Principal) -> Response:
    store_id = request.path_params["vector_store_id"]
    body = await read_json(request, services.settings.max_body_bytes)
    ids, overrides = _batch_files(body)
    if len(set(ids)) != len(ids):
        raise invalid("A file may appear only once in a batch.", "file_ids")
    default_strategy = parse_chunking_strategy(body.get("chunking_strategy"))
    default_attributes = validate_attributes(body.get("attributes") or {})
    files: list[NewFile] = []
    for index, (file_id, override) in enumerate(zip(ids, overrides, strict=True)):
        strategy = (parse_chunking_strategy(override["chunking_strategy"], f"files[{index}].chunking_strategy")
                    if override.get("chunking_strategy") is not None else default_strategy)
        attributes = (validate_attributes(override["attributes"], f"files[{index}].attributes")
                      if override.get("attributes") is not None else default_attributes)
        files += await new_files(services, principal.owner_id, [file_id], strategy, attributes,
                                 "files" if "files" in body else "file_ids")
    record = await _repo(services).create_batch(store_id, principal.owner_id, files)
    if record is None:
        raise store_not_found(store_id)
    services.retrieval.ingester.wake()
    return JSONResponse(batch_body(record))


async def _batch_or_404(services: Services, request: Request, principal: Principal) -> Any:
    store_id, batch_id = request.path_params["vector_store_id"], request.path_params["batch_id"]
    record = await _repo(services).get_batch(store_id, batch_id, principal.owner_id)
    if record is None:
        raise file_not_found(batch_id, "batch_id")
    return record


@endpoint(render_error)
async def get_batch(request: Request, services: Services, principal: Principal) -> Response:
    return JSONResponse(batch_body(await _batch_or_404(services, request, principal)))


@endpoint(render_error)
async def cancel_batch(request: Request, services: Services, principal: Principal) -> Response:
    store_id, batch_id = request.path_params["vector_store_id"], request.path_params["batch_id"]
    record = await services.retrieval.ingester.cancel_batch(store_id, batch_id, principal.owner_id)
    if record is None:
        raise file_not_found(batch_id, "batch_id")
    return JSONResponse(batch_body(record))


@endpoint(render_error)
async def list_batch_files(request: Request, services: Services, principal: Principal) -> Response:
    batch = await _batch_or_404(services, request, principal)
    after, limit, order = page_params(request)
    page = await _repo(services).list_files(batch.vector_store_id, principal.owner_id, batch_id=batch.id,
                                            status=_status_filter(request), limit=limit, order=order,
                                            after=after, before=request.query_params.get("before") or None)
    records, has_more = page or ([], False)
    return JSONResponse(list_body([file_body(r) for r in records], has_more))


_STORE = "/v1/vector_stores/{vector_store_id}"
ROUTES: list[Route] = [
    Route(f"{_STORE}/files", attach_file, methods=["POST"]),
    Route(f"{_STORE}/files", list_files, methods=["GET"]),
    Route(f"{_STORE}/files/{{file_id}}", get_file, methods=["GET"]),
    Route(f"{_STORE}/files/{{file_id}}", update_file, methods=["POST"]),
    Route(f"{_STORE}/files/{{file_id}}", delete_file, methods=["DELETE"]),
    Route(f"{_STORE}/files/{{file_id}}/content", file_content, methods=["GET"]),
    Route(f"{_STORE}/file_batches", create_batch, methods=["POST"]),
    Route(f"{_STORE}/file_batches/{{batch_id}}", get_batch, methods=["GET"]),
    Route(f"{_STORE}/file_batches/{{batch_id}}/cancel", cancel_batch, methods=["POST"]),
    Route(f"{_STORE}/file_batches/{{batch_id}}/files", list_batch_files, methods=["GET"]),
]
