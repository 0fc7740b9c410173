"""GET /health (the process is up) and GET /ready (store and models ready, and the process
not draining: a load balancer stops sending it work once it answers 503)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from switchyard.surfaces.context import services_of
from switchyard.surfaces.http import JSONResponse


async def health(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


async def ready(request: Request) -> Response:
    if request.app.state.drain.draining:
        return JSONResponse({"status": "draining"}, status_code=503)
    services = services_of(request)
    store_ok = await services.database.ping()
    models_ok = bool(request.app.state.models_ready)
    body = {"status": "ready" if store_ok and models_ok else "not_ready",
            "store": store_ok, "models": models_ok}
    return JSONResponse(body, status_code=200 if store_ok and models_ok else 503)
