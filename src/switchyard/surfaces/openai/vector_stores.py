"""/v1/vector_stores: create, list, retrieve, modify, delete, search."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from switchyard.core.errors import invalid
from switchyard.gateway.auth import Principal
from switchyard.retrieval.chunking import parse_chunking_strategy
from switchyard.store.vector_stores import UNSET, VectorStoreRepository
from switchyard.surfaces.context import Services, endpoint
from switchyard.surfaces.http import JSONResponse, read_json
from switchyard.surfaces.openai.errors import render_error
from switchyard.surfaces.openai.vector_store_files import new_files
from switchyard.surfaces.openai.vector_store_shapes import (
    expires_after_days,
    metadata,
    store_body,
    store_not_found,
    string_list,
)
from switchyard.surfaces.pagination import list_body, page_params

MAX_NAME = 512


def _repo(services: Services) -> VectorStoreRepository:
    return VectorStoreRepository(services.database)


def _name(value: object) -> str:
    if not isinstance(value, str):
        raise invalid("'name' must be a string.", "name")
    if len(value) > MAX_NAME:
        raise invalid(f"Invalid 'name': at most {MAX_NAME} characters.", "name", "string_above_max_length")
    return value


@endpoint(render_error)
async def create_store(request: Request, services: Services, principal: Principal) -> Response:
    body = await read_json(request, services.settings.max_body_bytes)
    name = _name(body.get("name") or "")
    strategy = parse_chunking_strategy(body.get("chunking_strategy"))
    files = await new_files(services, principal.owner_id, string_list(body, "file_ids"), strategy, {})
    record = await _repo(services).create(
        principal.owner_id, name=name, metadata=metadata(body), expires_after_days=expires_after_days(body),
        embedding_model=services.retrieval.embedding_model, files=files,
    )
    services.retrieval.ingester.wake()
    return JSONResponse(store_body(record))


@endpoint(render_error)
async def list_stores(request: Request, services: Services, principal: Principal) -> Response:
    after, limit, order = page_params(request)
    records, has_more = await _repo(services).list(principal.owner_id, limit=limit, order=order, after=after,
                                                   before=request.query_params.get("before") or None)
    return JSONResponse(list_body([store_body(r) for r in records], has_more))


@endpoint(render_error)
async def get_store(request: Request, services: Services, principal: Principal) -> Response:
    store_id = request.path_params["vector_store_id"]
    record = await _repo(services).get(store_id, principal.owner_id)
    if record is None:
        raise store_not_found(store_id)
    return JSONResponse(store_body(record))


@endpoint(render_error)
async def modify_store(request: Request, services: Services, principal: Principal) -> Response:
    store_id = request.path_params["vector_store_id"]
    body = await read_json(request, services.settings.max_body_bytes)
    name = body.get("name")
    meta = metadata(body)  # null, like an absent key, leaves the metadata as it is
    changes = {"name": _name(name) if name is not None else UNSET,
               "metadata": meta if meta is not None else UNSET,
               "expires_after_days": expires_after_days(body) if "expires_after" in body else UNSET}
    record = await _repo(services).update(store_id, principal.owner_id, **changes)
    if record is None:
        raise store_not_found(store_id)
    return JSONResponse(store_body(record))


@endpoint(render_error)
async def delete_store(request: Request, services: Services, principal: Principal) -> Response:
    store_id = request.path_params["vector_store_id"]
    if not await _repo(services).delete(store_id, principal.owner_id):
        raise store_not_found(store_id)
    return JSONResponse({"id": store_id, "object": "vector_store.deleted", "deleted": True})


@endpoint(render_error)
async def search_store(request: Request, services: Services, principal: Principal) -> Response:
    store_id = request.path_params["vector_store_id"]
    body = await read_json(request, services.settings.max_body_bytes)
    if "query" not in body:
        raise invalid("'query' is required.", "query")
    if await _repo(services).get(store_id, principal.owner_id) is None:
        raise store_not_found(store_id)
    hits = await services.retrieval.search.search(
        [store_id], principal.owner_id, body["query"], max_num_results=body.get("max_num_results", 10),
        filters=body.get("filters"), ranking_options=body.get("ranking_options"),
        rewrite_query=bool(body.get("rewrite_query", False)),
    )
    query = body["query"] if isinstance(body["query"], list) else [body["query"]]
    data = [{"file_id": h.file_id, "filename": h.filename, "score": h.score, "attributes": h.attributes,
             "content": h.content} for h in hits]
    return JSONResponse({"object": "vector_store.search_results.page", "search_query": query, "data": data,
                         "has_more": False, "next_page": None})


ROUTES: list[Route] = [
    Route("/v1/vector_stores", create_store, methods=["POST"]),
    Route("/v1/vector_stores", list_stores, methods=["GET"]),
    Route("/v1/vector_stores/{vector_store_id}", get_store, methods=["GET"]),
    Route("/v1/vector_stores/{vector_store_id}", modify_store, methods=["POST"]),
    Route("/v1/vector_stores/{vector_store_id}", delete_store, methods=["DELETE"]),
    Route("/v1/vector_stores/{vector_store_id}/search", search_store, methods=["POST"]),
]
