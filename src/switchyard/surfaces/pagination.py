"""Query parameters of OpenAI's cursor-paginated lists."""

from __future__ import annotations

from typing import Any, Literal

from starlette.requests import Request

from switchyard.core.errors import invalid


def page_params(request: Request, default_order: Literal["asc", "desc"] = "desc"
                ) -> tuple[str | None, int, Literal["asc", "desc"]]:
    query = request.query_params
    raw_limit = query.get("limit", "20")
    if not raw_limit.isdigit() or not 1 <= int(raw_limit) <= 100:
        raise invalid("'limit' must be an integer between 1 and 100.", "limit")
    order = query.get("order", default_order)
    if order not in ("asc", "desc"):
        raise invalid("'order' must be 'asc' or 'desc'.", "order")
    return query.get("after") or None, int(raw_limit), order  # type: ignore[return-value]


def list_body(items: list[dict[str, Any]], has_more: bool) -> dict[str, Any]:
    return {
        "object": "list",
        "data": items,
        "first_id": items[0]["id"] if items else None,
        "last_id": items[-1]["id"] if items else None,
        "has_more": has_more,
    }
