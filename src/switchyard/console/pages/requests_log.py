"""The request log: the ledger's entries, newest first, filtered by model, project,
key, status and latency; each entry opens on its own page."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from switchyard.console.render import render
from switchyard.console.session import Session, console_page
from switchyard.core.errors import ErrorKind, SwitchyardError
from switchyard.store.ledger import LedgerFilter
from switchyard.surfaces.admin.usage import entry_body
from switchyard.surfaces.context import Services

PAGE = 50
STATUS = {"": (None, None), "ok": (None, 399), "error": (400, None), "4xx": (400, 499), "5xx": (500, 599)}
FIELDS = ("model", "project_id", "api_key_id", "request_id", "status", "min_latency_ms")


def _filters(request: Request) -> tuple[dict[str, str], LedgerFilter, str | None]:
    given = {name: request.query_params.get(name, "").strip() for name in FIELDS}
    error = None
    if given["status"] not in STATUS:
        error, given["status"] = f"Unknown status filter '{given['status']}'.", ""
    latency = given["min_latency_ms"]
    if latency and not latency.isdigit():
        error, given["min_latency_ms"], latency = "'min_latency_ms' must be a whole number of milliseconds.", "", ""
    low, high = STATUS[given["status"]]
    where = LedgerFilter(
        models=(given["model"],) if given["model"] else (),
        project_ids=(given["project_id"],) if given["project_id"] else (),
        api_key_ids=(given["api_key_id"],) if given["api_key_id"] else (),
        request_id=given["request_id"] or None, status_min=low, status_max=high,
        min_latency_ms=int(latency) if latency else None)
    return given, where, error


@console_page
async def request_log(request: Request, services: Services, session: Session) -> Response:
    given, where, error = _filters(request)
    after = request.query_params.get("after") or None
    entries, has_more = await services.metering.entries(where, limit=PAGE, after=after)
    models = sorted({m.name for m in services.settings.models} | {e.model for e in entries})
    next_query: dict[str, Any] = {**{k: v for k, v in given.items() if v}, "after": entries[-1].id} if has_more \
        else {}
    return render(request, "requests.html", session, status=400 if error else 200, error=error, entries=entries,
                  given=given, models=models, statuses=[s for s in STATUS if s], next_query=next_query)


@console_page
async def request_entry(request: Request, services: Services, session: Session) -> Response:
    entry_id = str(request.path_params["entry_id"])
    entries, _ = await services.metering.entries(LedgerFilter(entry_id=entry_id), limit=1, after=None)
    if not entries:
        raise SwitchyardError(ErrorKind.NOT_FOUND, f"No ledger entry '{entry_id}'.")
    return render(request, "request.html", session, entry=entries[0], body=entry_body(entries[0]))
