"""Usage and costs for administrators: OpenAI's ``/v1/organization/usage/completions``,
``…/usage/embeddings`` and ``/v1/organization/costs``, and two Switchyard extensions in
the same style: ``/v1/organization/requests`` (the ledger's entries, newest first) and
``/v1/organization/spend`` (a project's or key's spend against its budget)."""

from __future__ import annotations

import time
from typing import Any

from starlette.datastructures import QueryParams
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from switchyard.core.errors import invalid
from switchyard.gateway.auth import Principal, require_admin
from switchyard.gateway.prices import format_usd, nano_to_usd
from switchyard.gateway.usage_report import UsageQuery
from switchyard.store.budgets import key_holder, period_bounds, project_holder
from switchyard.store.ledger import LedgerEntry, LedgerFilter
from switchyard.surfaces.context import Services, endpoint
from switchyard.surfaces.http import JSONResponse
from switchyard.surfaces.openai.errors import render_error
from switchyard.surfaces.pagination import list_body

MAX_REQUESTS_PAGE = 1000


def _list(query: QueryParams, name: str) -> tuple[str, ...]:
    """An array parameter, as ``name=a&name=b``, ``name[]=a`` (the SDKs' form) or ``name=a,b``."""
    values = [*query.getlist(name), *query.getlist(name + "[]")]
    return tuple(part for value in values for part in value.split(",") if part)


def _int(query: QueryParams, name: str, *, required: bool = False) -> int | None:
    raw = query.get(name)
    if raw is None:
        if required:
            raise invalid(f"Missing required parameter: '{name}'.", name, "missing_required_parameter")
        return None
    if not raw.lstrip("-").isdigit():
        raise invalid(f"Invalid '{name}': expected an integer, got '{raw}'.", name, "invalid_type")
    return int(raw)


def _usage_query(request: Request) -> UsageQuery:
    query = request.query_params
    start = _int(query, "start_time", required=True)
    assert start is not None
    end = _int(query, "end_time")
    return UsageQuery(
        start_time=start, end_time=end if end is not None else int(time.time()) + 1,
        bucket_width=query.get("bucket_width", "1d"), limit=_int(query, "limit"), page=query.get("page") or None,
        group_by=_list(query, "group_by"), project_ids=_list(query, "project_ids"),
        api_key_ids=_list(query, "api_key_ids"), models=_list(query, "models") or _list(query, "line_items"),
    )


def _report(name: str) -> Any:
    @endpoint(render_error)
    async def report(request: Request, services: Services, principal: Principal) -> Response:
        require_admin(principal)
        return JSONResponse(await services.metering.usage(name, _usage_query(request)))

    report.__name__ = f"usage_{name}"
    return report


LEDGER_KINDS = ("completions", "embeddings", "moderations", "images", "transcriptions", "speeches")


def _audio_usage(entry: LedgerEntry) -> dict[str, Any]:
    """What a speech request used beside tokens: audio transcribed, or characters spoken."""
    if entry.kind == "transcriptions":
        return {"audio_seconds": entry.audio_ms / 1000}
    if entry.kind == "speeches":
        return {"characters": entry.characters}
    return {}


def entry_body(entry: LedgerEntry) -> dict[str, Any]:
    return {
        "object": "organization.request",
        "id": entry.id,
        "request_id": entry.request_id,
        "created_at": int(entry.created_at.timestamp()),
        "project_id": entry.owner_id,
        "api_key_id": entry.key_id,
        "kind": entry.kind,
        "surface": entry.surface,
        "model": entry.model,
        "deployment": entry.deployment,
        "status": entry.status,
        "outcome": entry.outcome,
        "error_code": entry.error_code,
        "num_model_requests": entry.model_requests,
        "usage": {
            "input_tokens": entry.input_tokens,
            "input_cached_tokens": entry.cached_input_tokens,
            "input_cache_write_tokens": entry.cache_write_tokens,
            "output_tokens": entry.output_tokens,
            "output_reasoning_tokens": entry.reasoning_tokens,
            "counted_by_switchyard": entry.usage_counted,
            **_audio_usage(entry),
        },
        "cost": {"value": float(nano_to_usd(entry.cost_nanousd)), "currency": "usd",
                 "exact": format_usd(entry.cost_nanousd)},
        "latency_ms": entry.latency_ms,
        "time_to_first_token_ms": entry.ttft_ms,
    }


@endpoint(render_error)
async def list_requests(request: Request, services: Services, principal: Principal) -> Response:
    require_admin(principal)
    query = request.query_params
    limit = _int(query, "limit") or 20
    if not 1 <= limit <= MAX_REQUESTS_PAGE:
        raise invalid(f"'limit' must be between 1 and {MAX_REQUESTS_PAGE}.", "limit")
    kind = query.get("kind")
    if kind is not None and kind not in LEDGER_KINDS:
        raise invalid(f"Invalid 'kind': '{kind}'. Supported values are: {', '.join(map(repr, LEDGER_KINDS))}.",
                      "kind")
    where = LedgerFilter(
        kind=kind, project_ids=_list(query, "project_ids") or _list(query, "project_id"),
        api_key_ids=_list(query, "api_key_ids") or _list(query, "api_key_id"),
        models=_list(query, "models") or _list(query, "model"), request_id=query.get("request_id"),
        outcome=query.get("outcome"), since=_int(query, "start_time"), until=_int(query, "end_time"),
    )
    entries, has_more = await services.metering.entries(where, limit=limit, after=query.get("after") or None)
    return JSONResponse(list_body([entry_body(e) for e in entries], has_more))


@endpoint(render_error)
async def get_spend(request: Request, services: Services, principal: Principal) -> Response:
    require_admin(principal)
    query = request.query_params
    project, key = query.get("project_id"), query.get("api_key_id")
    if (project is None) == (key is None):
        raise invalid("Give exactly one of 'project_id' and 'api_key_id'.", "project_id")
    budget, interval = await services.organization.budget(project_id=project, key_id=key)
    period = _period(query, services.metering.budgets.period(interval) if budget is not None else None)
    holder = project_holder(project, period) if project is not None else key_holder(key or "", period)
    spend = await services.metering.spend(holder)
    start, end = period_bounds(period) if period else (None, None)
    return JSONResponse({
        "object": "organization.spend", "project_id": project, "api_key_id": key,
        "month": period if period and len(period) == 7 else None, "period": period,
        "period_start": int(start.timestamp()) if start else None, "period_end": int(end.timestamp()) if end else None,
        "budget": None if budget is None else {"value": float(budget), "currency": "usd", "interval": interval},
        "spent": _usd(spend.spent_nanousd), "reserved": _usd(spend.reserved_nanousd),
    })


def _period(query: QueryParams, current: str | None) -> str | None:
    """The period asked for (``month=YYYY-MM``, or ``period=`` a month or a day ``YYYY-MM-DD``);
    without one, the period the holder's budget counts now (none: its lifetime)."""
    for name, shapes in (("month", "'YYYY-MM'"), ("period", "'YYYY-MM' or a day, 'YYYY-MM-DD'")):
        value = query.get(name)
        if value is None:
            continue
        try:
            if name == "month" and len(value) != 7:
                raise ValueError(value)
            period_bounds(value)
        except ValueError:
            raise invalid(f"'{name}' must be a calendar month, {shapes} (UTC).", name) from None
        return value
    return current


def _usd(nanousd: int) -> dict[str, Any]:
    return {"value": float(nano_to_usd(nanousd)), "currency": "usd", "exact": format_usd(nanousd)}


ROUTES: list[Route] = [
    Route("/v1/organization/usage/completions", _report("completions"), methods=["GET"]),
    Route("/v1/organization/usage/embeddings", _report("embeddings"), methods=["GET"]),
    Route("/v1/organization/usage/audio_speeches", _report("audio_speeches"), methods=["GET"]),
    Route("/v1/organization/usage/audio_transcriptions", _report("audio_transcriptions"), methods=["GET"]),
    Route("/v1/organization/costs", _report("costs"), methods=["GET"]),
    Route("/v1/organization/requests", list_requests, methods=["GET"]),
    Route("/v1/organization/spend", get_spend, methods=["GET"]),
]
