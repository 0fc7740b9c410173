"""Builds the ASGI application from settings; no module-level state."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from switchyard.codecs.openai_responses import decode_request as decode_responses_request
from switchyard.config import Settings
from switchyard.core.errors import ErrorKind, SwitchyardError
from switchyard.engine.responses.live import EventSignals
from switchyard.engine.responses.runner import BackgroundRunner
from switchyard.engine.responses.service import ResponsesService
from switchyard.gateway.auth import Authenticator
from switchyard.gateway.embedding_router import EmbeddingRegistry
from switchyard.gateway.router import ModelRegistry, Route
from switchyard.providers.registry import build_provider
from switchyard.store.conversations import ConversationRepository
from switchyard.store.database import Database
from switchyard.store.keys import ApiKeyRepository
from switchyard.store.response_events import ResponseEventLog
from switchyard.store.responses import ResponseRepository
from switchyard.surfaces.anthropic.errors import render_error as render_anthropic
from switchyard.surfaces.context import Services
from switchyard.surfaces.openai.errors import render_error as render_openai
from switchyard.surfaces.routes import all_routes
from switchyard.tools.mcp import McpClient

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


def decode_stored_request(stored: dict[str, Any]) -> Any:
    """A queued background response's call, with its input as resolved when it was queued."""
    call = decode_responses_request(stored["body"])
    call.input_items = list(stored["input_items"])
    return call


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    kind = ErrorKind.NOT_FOUND if exc.status_code == 404 else ErrorKind.INVALID_REQUEST
    message = f"{request.method} {request.url.path}: {exc.detail}"
    error = SwitchyardError(kind, message, status=exc.status_code)
    render = render_anthropic if request.url.path.startswith("/v1/messages") else render_openai
    return render(error)


async def _start_models(app: Starlette, routes: list[Route]) -> None:
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

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        database = Database(settings.resolved_database_url)
        await database.start()
        keys = ApiKeyRepository(database)
        chat_models = [m for m in settings.models if m.task == "chat"]
        routes = [Route(m, build_provider(m, Path(settings.data_dir))) for m in chat_models]
        registry = ModelRegistry(routes)
        embeddings = EmbeddingRegistry.from_settings(settings)
        conversation_repo = ConversationRepository(database)
        mcp = McpClient()
        responses_service = ResponsesService(
            registry, ResponseRepository(database),
            ResponseEventLog(database, max_events_per_response=settings.response_event_buffer),
            conversation_repo, mcp, EventSignals(),
        )
        app.state.services = Services(
            settings=settings,
            database=database,
            keys=keys,
            auth=Authenticator(master_key, keys),
            models=registry,
            responses=responses_service,
            conversations=conversation_repo,
            embeddings=embeddings,
        )
        runner = BackgroundRunner(responses_service, decode_stored_request,
                                  lease_seconds=settings.background_lease_seconds,
                                  concurrency=settings.background_concurrency)
        runner.start()
        app.state.models_ready = False
        if generated:
            log.warning("master key (saved in %s): %s", settings.data_dir / "master_key", master_key)
        starter = asyncio.create_task(_start_models(app, routes))
        try:
            yield
        finally:
            starter.cancel()
            await runner.stop()
            await mcp.aclose()
            await embeddings.aclose()
            for route in routes:
                await route.provider.aclose()
            await database.aclose()

    return Starlette(
        routes=all_routes(),
        lifespan=lifespan,
        exception_handlers={HTTPException: _http_error},
    )
