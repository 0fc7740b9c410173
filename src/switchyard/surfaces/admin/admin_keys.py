"""``/v1/organization/admin_api_keys``: keys that manage the organization (they cannot
call the model APIs). The secret is in ``value`` of the create answer, shown once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from switchyard.gateway.auth import Principal
from switchyard.store.keys import ApiKeyRecord
from switchyard.surfaces.admin.common import (
    MISSING,
    admin_endpoint,
    choice_field,
    count_field,
    delete_handler,
    list_response,
    object_handler,
    object_routes,
    page,
    page_query,
    refuse_unknown,
    text_field,
    unix,
)
from switchyard.surfaces.context import Services
from switchyard.surfaces.http import JSONResponse, read_json

PREFIX = "/v1/organization/admin_api_keys"
MAX_EXPIRY_SECONDS = 31_536_000  # OpenAI's bound: a year


def admin_key_object(record: ApiKeyRecord) -> dict[str, Any]:
    return {
        "object": "organization.admin_api_key", "id": record.id, "name": record.name,
        "redacted_value": record.key_prefix + "****", "created_at": unix(record.created_at),
        "expires_at": unix(record.settings.expires_at), "last_used_at": unix(record.last_used_at),
        "owner": {"type": "user", "object": "organization.user", "id": "user-owner",
                  "name": "Organization owner", "created_at": 0, "role": "owner"},
    }


@admin_endpoint
async def list_admin_keys(request: Request, services: Services, principal: Principal) -> Response:
    after, limit = page_query(request)
    order = choice_field(dict(request.query_params), "order", ("asc", "desc"), "asc")
    keys = await services.organization.list_admin_keys()
    if order == "desc":
        keys.reverse()
    chosen, has_more = page(keys, lambda k: k.id, after, limit)
    return list_response([admin_key_object(k) for k in chosen], has_more)


@admin_endpoint
async def create_admin_key(request: Request, services: Services, principal: Principal) -> Response:
    body = await read_json(request, services.settings.max_body_bytes)
    refuse_unknown(body, ("name", "expires_in_seconds"))
    name = text_field(body, "name")
    seconds = count_field(body, "expires_in_seconds", maximum=MAX_EXPIRY_SECONDS)
    expires_at = None if seconds in (None, MISSING) else datetime.now(UTC) + timedelta(seconds=seconds)
    created = await services.organization.create_admin_key(name, expires_at)
    return JSONResponse({**admin_key_object(created.record), "value": created.secret})


get_admin_key = object_handler(("key_id",), lambda s: s.organization.admin_key, admin_key_object)
delete_admin_key = delete_handler(("key_id",), lambda s: s.organization.delete_admin_key,
                                  "organization.admin_api_key.deleted")


ROUTES: list[Route] = object_routes(PREFIX, "key_id", listing=list_admin_keys, create=create_admin_key,
                                    get=get_admin_key, delete=delete_admin_key)
