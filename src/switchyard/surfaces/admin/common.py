"""What every administration endpoint shares: the admin-only decorator, OpenAI's
cursor pagination (``limit``/``after``, ``first_id``/``last_id``/``has_more``), unix
timestamps, the handlers that only read, list or delete one kind of object, and typed
reads of request-body fields that name the field on bad input."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from functools import wraps
from typing import Any, TypeVar

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from switchyard.core.errors import invalid
from switchyard.gateway.auth import Principal, require_admin
from switchyard.store.projects import ProjectRecord
from switchyard.surfaces.context import Handler, Services, endpoint
from switchyard.surfaces.http import JSONResponse
from switchyard.surfaces.openai.errors import render_error

T = TypeVar("T")
MISSING: Any = object()
REQUIRED: Any = object()


def admin_endpoint(handler: Handler) -> Endpoint:
    """Authenticated, admin-only (the master key or an admin key), errors in OpenAI's shape."""

    @wraps(handler)
    async def checked(request: Request, services: Services, principal: Principal) -> Response:
        require_admin(principal)
        return await handler(request, services, principal)

    return endpoint(render_error)(checked)


def unix(moment: datetime | None) -> int | None:
    return None if moment is None else int(moment.timestamp())


def page_query(request: Request, default_limit: int = 20) -> tuple[str | None, int]:
    """``after`` and ``limit`` (1 to 100) from the query string."""
    raw = request.query_params.get("limit", str(default_limit))
    if not raw.isdigit() or not 1 <= int(raw) <= 100:
        raise invalid("'limit' must be an integer between 1 and 100.", "limit")
    return request.query_params.get("after") or None, int(raw)


def flag_query(request: Request, name: str) -> bool:
    raw = request.query_params.get(name, "false").lower()
    if raw not in ("true", "false", "1", "0"):
        raise invalid(f"'{name}' must be true or false.", name)
    return raw in ("true", "1")


def page(items: Sequence[T], ids: Callable[[T], str], after: str | None, limit: int) -> tuple[list[T], bool]:
    """The ``limit`` items that follow the one whose id is ``after``, and whether more follow."""
    start = 0
    if after is not None:
        positions = [i for i, item in enumerate(items) if ids(item) == after]
        if not positions:
            raise invalid(f"'after' names no object in this list: '{after}'.", "after")
        start = positions[0] + 1
    chosen = list(items[start:start + limit])
    return chosen, start + limit < len(items)


def list_response(objects: list[dict[str, Any]], has_more: bool) -> JSONResponse:
    return JSONResponse({
        "object": "list", "data": objects,
        "first_id": objects[0]["id"] if objects else None,
        "last_id": objects[-1]["id"] if objects else None,
        "has_more": has_more,
    })


def paged(request: Request, items: Sequence[T], ids: Callable[[T], str], render: Callable[[T], dict[str, Any]],
          default_limit: int = 20) -> JSONResponse:
    after, limit = page_query(request, default_limit)
    chosen, has_more = page(items, ids, after, limit)
    return list_response([render(item) for item in chosen], has_more)


def deleted(object_name: str, object_id: str) -> JSONResponse:
    return JSONResponse({"object": object_name, "id": object_id, "deleted": True})


Endpoint = Callable[[Request], Awaitable[Response]]


def object_routes(path: str, id_name: str, *, listing: Endpoint | None = None, create: Endpoint | None = None,
                  get: Endpoint | None = None, update: Endpoint | None = None,
                  delete: Endpoint | None = None) -> list[Route]:
    """OpenAI's routes of one kind of object: ``GET``/``POST`` on ``path`` (list, create) and
    ``GET``/``POST``/``DELETE`` on ``path/{id_name}`` (get, update, delete), those given."""
    one = f"{path}/{{{id_name}}}"
    table = ((path, "GET", listing), (path, "POST", create), (one, "GET", get), (one, "POST", update),
             (one, "DELETE", delete))
    return [Route(route, handler, methods=[method]) for route, method, handler in table if handler is not None]


# handlers of one shape: the path's ids, in order, passed to one service call

Call = Callable[[Services], Callable[..., Awaitable[T]]]  # the service call, picked from the services
PROJECT = ("project_id",)


def path_ids(request: Request, names: Sequence[str]) -> tuple[str, ...]:
    return tuple(str(request.path_params[name]) for name in names)


def object_handler(ids: Sequence[str], call: Call[T], render: Callable[[T], dict[str, Any]]
                   ) -> Endpoint:
    """Answers the object the call returns (a get, or an action such as archiving)."""

    async def one(request: Request, services: Services, principal: Principal) -> Response:
        return JSONResponse(render(await call(services)(*path_ids(request, ids))))

    return admin_endpoint(one)


def list_handler(ids: Sequence[str], call: Call[Sequence[T]], key: Callable[[T], str],
                 render: Callable[[T], dict[str, Any]]) -> Endpoint:
    """Answers a page of the objects the call returns."""

    async def listed(request: Request, services: Services, principal: Principal) -> Response:
        return paged(request, await call(services)(*path_ids(request, ids)), key, render)

    return admin_endpoint(listed)


def project_update_handler(changes: Mapping[str, Any], render: Callable[[ProjectRecord], dict[str, Any]]
                           ) -> Endpoint:
    """Sets fixed ``changes`` on the path's project (clearing one of its settings) and answers
    ``render`` of it."""

    async def update(request: Request, services: Services, principal: Principal) -> Response:
        project_id = str(request.path_params["project_id"])
        return JSONResponse(render(await services.organization.update_project(project_id, changes)))

    return admin_endpoint(update)


def delete_handler(ids: Sequence[str], call: Call[Any], object_name: str) -> Endpoint:
    """Deletes the object the last id names; OpenAI's ``{object, id, deleted}``."""

    async def removed(request: Request, services: Services, principal: Principal) -> Response:
        found = path_ids(request, ids)
        await call(services)(*found)
        return deleted(object_name, found[-1])

    return admin_endpoint(removed)


# typed reads of body fields; each returns ``default`` when the field is absent


def text_field(body: dict[str, Any], name: str, default: Any = REQUIRED, *, nullable: bool = False) -> Any:
    """A string of 1 to 256 characters; absent, ``default`` (without one: a 400 naming the field)."""
    value = body.get(name, default)
    if value is REQUIRED:
        raise invalid(f"'{name}' is required.", name)
    if value is MISSING or (value is None and nullable):
        return value
    if not isinstance(value, str) or not value.strip():
        raise invalid(f"'{name}' must be a non-empty string.", name)
    if len(value) > 256:
        raise invalid(f"'{name}' must be at most 256 characters.", name)
    return value


def choice_field(body: dict[str, Any], name: str, choices: Sequence[str | None], default: Any = MISSING) -> Any:
    if name not in body:
        return default
    value = body[name]
    if value not in choices:
        raise invalid(f"'{name}' must be one of {', '.join(repr(c) for c in choices)}.", name)
    return value


INT32_MAX = 2**31 - 1  # limits are stored as 32-bit integers


def count_field(body: dict[str, Any], name: str, default: Any = MISSING, *, nullable: bool = True,
                minimum: int = 1, maximum: int | None = INT32_MAX) -> Any:
    """A positive integer (or null, clearing a limit, where ``nullable``)."""
    value = body.get(name, default)
    if value is MISSING or (value is None and nullable):
        return value
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum or (
            maximum is not None and value > maximum):
        bound = f" and at most {maximum}" if maximum is not None else ""
        raise invalid(f"'{name}' must be an integer of at least {minimum}{bound}.", name)
    return value


def bool_field(body: dict[str, Any], name: str, default: Any = MISSING) -> Any:
    value = body.get(name, default)
    if value is not MISSING and not isinstance(value, bool):
        raise invalid(f"'{name}' must be a boolean.", name)
    return value


def strings_field(body: dict[str, Any], name: str, default: Any = MISSING, *, nullable: bool = True) -> Any:
    """A list of non-empty strings (or null where ``nullable``)."""
    value = body.get(name, default)
    if value is MISSING or (value is None and nullable):
        return value
    if not isinstance(value, list) or len(value) > 1000:
        raise invalid(f"'{name}' must be an array of strings.", name)
    for index, item in enumerate(value):
        if not isinstance(item, str) or not item.strip():
            raise invalid(f"'{name}[{index}]' must be a non-empty string.", f"{name}[{index}]")
    return tuple(value)


def cents_field(body: dict[str, Any], name: str) -> Decimal:
    """A spend limit's ``threshold_amount``: a positive whole number of US cents (OpenAI's
    unit), returned as exact US dollars."""
    value = body.get(name, MISSING)
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 10**14:
        raise invalid(f"'{name}' must be a positive whole number of US cents.", name)
    return Decimal(value) / 100


def cents_out(usd: Decimal) -> int | float:
    cents = usd * 100
    return int(cents) if cents == cents.to_integral_value() else float(cents)


def refuse_unknown(body: dict[str, Any], known: Sequence[str]) -> None:
    for name in body:
        if name not in known:
            raise invalid(f"Unrecognized request argument supplied: '{name}'.", name, "unknown_parameter")
