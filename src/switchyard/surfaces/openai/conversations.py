"""The Conversations API: /v1/conversations and its items."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from switchyard.codecs.metadata import decode_metadata
from switchyard.codecs.openai_responses import normalize_items
from switchyard.core.errors import ErrorKind, SwitchyardError, invalid
from switchyard.gateway.auth import Principal
from switchyard.store.conversations import ConversationRecord, ConversationRepository, DuplicateItemError
from switchyard.store.ids import new_id
from switchyard.surfaces.context import Services, endpoint
from switchyard.surfaces.http import JSONResponse, read_json
from switchyard.surfaces.openai.errors import render_error
from switchyard.surfaces.pagination import list_body, page_params

MAX_ITEMS_PER_CALL = 20


def _repo(services: Services) -> ConversationRepository:
    return services.conversations  # type: ignore[attr-defined,no-any-return]


def _not_found(conversation_id: str) -> SwitchyardError:
    return SwitchyardError(ErrorKind.NOT_FOUND, f"Conversation with id '{conversation_id}' not found.",
                           param="conversation_id")


def _body(record: ConversationRecord) -> dict[str, Any]:
    return {"id": record.id, "object": "conversation", "created_at": record.created_at,
            "metadata": record.metadata}


def _metadata(body: dict[str, Any]) -> dict[str, str]:
    return decode_metadata(body.get("metadata")) or {}


def _items(body: dict[str, Any], required: bool) -> list[dict[str, Any]]:
    raw = body.get("items")
    if raw is None and not required:
        return []
    if not isinstance(raw, list) or (required and not raw):
        raise invalid("'items' must be a non-empty array of items.", "items")
    if len(raw) > MAX_ITEMS_PER_CALL:
        raise invalid(f"'items' may hold at most {MAX_ITEMS_PER_CALL} items per call.", "items")
    return normalize_items(raw, "items", new_id)


@endpoint(render_error)
async def create_conversation(request: Request, services: Services, principal: Principal) -> Response:
    body = await read_json(request, services.settings.max_body_bytes, allow_empty=True)
    try:
        record = await _repo(services).create(principal.owner_id, _metadata(body), _items(body, required=False))
    except DuplicateItemError as exc:
        raise invalid(f"Two items share the id '{exc.item_id}'.", "items") from exc
    return JSONResponse(_body(record))


@endpoint(render_error)
async def get_conversation(request: Request, services: Services, principal: Principal) -> Response:
    conversation_id = request.path_params["conversation_id"]
    record = await _repo(services).get(conversation_id, principal.owner_id)
    if record is None:
        raise _not_found(conversation_id)
    return JSONResponse(_body(record))


@endpoint(render_error)
async def update_conversation(request: Request, services: Services, principal: Principal) -> Response:
    conversation_id = request.path_params["conversation_id"]
    body = await read_json(request, services.settings.max_body_bytes)
    if "metadata" not in body:
        raise invalid("'metadata' is required.", "metadata")
    record = await _repo(services).update(conversation_id, principal.owner_id, _metadata(body))
    if record is None:
        raise _not_found(conversation_id)
    return JSONResponse(_body(record))


@endpoint(render_error)
async def delete_conversation(request: Request, services: Services, principal: Principal) -> Response:
    conversation_id = request.path_params["conversation_id"]
    if not await _repo(services).delete(conversation_id, principal.owner_id):
        raise _not_found(conversation_id)
    return JSONResponse({"id": conversation_id, "object": "conversation.deleted", "deleted": True})


@endpoint(render_error)
async def list_items(request: Request, services: Services, principal: Principal) -> Response:
    conversation_id = request.path_params["conversation_id"]
    after, limit, order = page_params(request)
    repo = _repo(services)
    if await repo.get(conversation_id, principal.owner_id) is None:
        raise _not_found(conversation_id)
    items, has_more = await repo.list_items(conversation_id, principal.owner_id, after=after, limit=limit,
                                            order=order)
    return JSONResponse(list_body(items, has_more))


@endpoint(render_error)
async def create_items(request: Request, services: Services, principal: Principal) -> Response:
    conversation_id = request.path_params["conversation_id"]
    body = await read_json(request, services.settings.max_body_bytes)
    try:
        stored = await _repo(services).append_items(conversation_id, principal.owner_id,
                                                    _items(body, required=True))
    except DuplicateItemError as exc:
        raise invalid(f"An item with id '{exc.item_id}' is already in the conversation.", "items") from exc
    if stored is None:
        raise _not_found(conversation_id)
    return JSONResponse(list_body(stored, False))


@endpoint(render_error)
async def get_item(request: Request, services: Services, principal: Principal) -> Response:
    conversation_id = request.path_params["conversation_id"]
    item_id = request.path_params["item_id"]
    item = await _repo(services).get_item(conversation_id, item_id, principal.owner_id)
    if item is None:
        raise SwitchyardError(ErrorKind.NOT_FOUND, f"Item with id '{item_id}' not found.", param="item_id")
    return JSONResponse(item)


@endpoint(render_error)
async def delete_item(request: Request, services: Services, principal: Principal) -> Response:
    conversation_id = request.path_params["conversation_id"]
    item_id = request.path_params["item_id"]
    repo = _repo(services)
    if not await repo.delete_item(conversation_id, item_id, principal.owner_id):
        raise SwitchyardError(ErrorKind.NOT_FOUND, f"Item with id '{item_id}' not found.", param="item_id")
    record = await repo.get(conversation_id, principal.owner_id)
    if record is None:
        raise _not_found(conversation_id)
    return JSONResponse(_body(record))


ROUTES: list[Route] = [
    Route("/v1/conversations", create_conversation, methods=["POST"]),
    Route("/v1/conversations/{conversation_id}", get_conversation, methods=["GET"]),
    Route("/v1/conversations/{conversation_id}", update_conversation, methods=["POST"]),
    Route("/v1/conversations/{conversation_id}", delete_conversation, methods=["DELETE"]),
    Route("/v1/conversations/{conversation_id}/items", list_items, methods=["GET"]),
    Route("/v1/conversations/{conversation_id}/items", create_items, methods=["POST"]),
    Route("/v1/conversations/{conversation_id}/items/{item_id}", get_item, methods=["GET"]),
    Route("/v1/conversations/{conversation_id}/items/{item_id}", delete_item, methods=["DELETE"]),
]
