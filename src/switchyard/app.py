"""Builds the ASGI application from settings; no module-level state."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response

from switchyard.config import Settings
from switchyard.core.errors import ErrorKind, SwitchyardError
from switchyard.gateway.drain import Drain
from switchyard.gateway.moderation import ModerationModels
from switchyard.gateway.router import Route
from switchyard.services import close_services, open_services, pause_jobs
from switchyard.surfaces.anthropic.errors import render_error as render_anthropic
from switchyard.surfaces.drain import DrainRequests
from switchyard.surfaces.observe import ObserveRequests
from switchyard.surfaces.openai.errors import render_error as render_openai
from switchyard.surfaces.routes import all_routes

log = logging.getLogger("switchyard")


def master_key_for(settings: Settings) -> tuple[str, bool]:
    """The master key, and whether it was just generated (so it should be shown)."""
    if settings.master_key:
        return settings.master_key, False
    path = settings.data_dir / "master_key"
    if path.exists():
        return path.read_text().strip(), False
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    key = "sk-sy-" + secrets.token_urlsafe(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key + "\n")
    return key, True


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    kind = ErrorKind.NOT_FOUND if exc.status_code == 404 else ErrorKind.INVALID_REQUEST
    message = f"{request.method} {request.url.path}: {exc.detail}"
    error = SwitchyardError(kind, message, status=exc.status_code)
    render = render_anthropic if request.url.path.startswith("/v1/messages") else render_openai
    return render(error)


async def _start_models(app: Starlette, routes: list[Route], moderation: ModerationModels) -> None:
    try:
        await moderation.start()
    except Exception:  # an embedded classifier that cannot load answers its own error when asked
        log.exception("the embedded moderation model failed to load")
    for route in routes:
        start = getattr(route.provider, "start", None)
        if start is not None:
            try:
                await start()
            except Exception:
                log.exception("model %s failed to start", route.name)
                return
    app.state.models_ready = True


def create_app(settings: Settings) -> Starlette:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    master_key, generated = master_key_for(settings)
    drain = Drain()  # begun by the server on SIGTERM (cli.py)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        drain.bind(asyncio.get_running_loop())
        services, workers = await open_services(settings, master_key)
        drain.on_begin(lambda: pause_jobs(services, workers))
        app.state.services = services
        app.state.models_ready = False
        if generated:
            log.warning("master key (saved in %s): %s", settings.data_dir / "master_key", master_key)
        starter = asyncio.create_task(_start_models(app, services.models.routes(), services.moderation))
        try:
            yield
        finally:
            starter.cancel()
            await close_services(services, workers)

    routes = all_routes()
    if settings.console:
        from switchyard.console.routes import console_routes

        routes += console_routes()
    app = Starlette(
        routes=routes,
        lifespan=lifespan,
        middleware=[Middleware(DrainRequests, drain=drain), Middleware(ObserveRequests)],
        exception_handlers={HTTPException: _http_error},
    )
    app.state.drain = drain
    return app
