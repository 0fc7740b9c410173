"""The Realtime API over a WebSocket: ``wss /v1/realtime?model=...``, authenticated by an
API key (``Authorization: Bearer``) or an ephemeral client secret (``ek_...``, made by
``POST /v1/realtime/client_secrets``). Each text frame is one client event; the session
(``engine/realtime``) answers with server events, one per frame."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.websockets import WebSocket, WebSocketDisconnect

from switchyard.codecs.openai_realtime.session import SessionConfig, apply_update
from switchyard.core.errors import ErrorKind, SwitchyardError, invalid
from switchyard.engine.realtime.client_secrets import is_client_secret, session_model
from switchyard.engine.realtime.context import RealtimeContext
from switchyard.engine.realtime.session import RealtimeSession
from switchyard.gateway.auth import Principal, presented_keys
from switchyard.surfaces.context import Services, allow_model, caller, endpoint
from switchyard.surfaces.http import JSONResponse, read_json
from switchyard.surfaces.observe import observed_call
from switchyard.surfaces.openai.errors import render_error

log = logging.getLogger("switchyard")
_GONE = (WebSocketDisconnect, OSError)
MAX_FRAME = 16 * 1024 * 1024


def _default_config(services: Services, model: str) -> SessionConfig:
    """GA defaults: audio out when a speech model is configured, else text."""
    speaks = services.audio.find(services.settings.realtime.speech_model) is not None
    return SessionConfig(model=model, output_modalities=("audio",) if speaks else ("text",))


def _context(services: Services, principal: Principal) -> RealtimeContext:
    settings = services.settings
    return RealtimeContext(
        models=services.models, audio=services.audio, metering=services.metering, principal=principal,
        data_dir=settings.data_dir, transcription_model=settings.realtime.transcription_model,
        speech_model=settings.realtime.speech_model,
        check_model=lambda name: allow_model(services, principal, name),
        observe=lambda: observed_call(services.call_services, principal, "openai.realtime", "/v1/realtime"))


async def _open(websocket: WebSocket, services: Services) -> tuple[Principal, SessionConfig]:
    """The caller and the session's starting configuration, or ``SwitchyardError``: an API
    key, or a client secret with the session it was made with."""
    keys = presented_keys(websocket.headers)
    preset: dict[str, Any] | None = None
    if keys and is_client_secret(keys[0]):
        opened = await services.realtime_secrets.open(keys[0])
        if opened is None:
            raise SwitchyardError(ErrorKind.AUTHENTICATION, "The client secret is not valid or has expired.",
                                  code="invalid_api_key")
        principal, preset = opened
    else:
        principal = await caller(websocket, services)
    model = websocket.query_params.get("model") or (session_model(preset) if preset else None)
    if not model:
        raise invalid("Missing required parameter: 'model' (give it in the URL: /v1/realtime?model=...).", "model",
                      "missing_required_parameter")
    allow_model(services, principal, model)
    services.models.resolve(model)
    config = _default_config(services, model)
    if preset is not None:
        config = apply_update(config, {**preset, "model": model},
                              default_stt=services.settings.realtime.transcription_model)
    return principal, config


async def realtime_socket(websocket: WebSocket) -> None:
    services: Services = websocket.app.state.services
    try:
        principal, config = await _open(websocket, services)
    except SwitchyardError as error:
        await _refuse(websocket, error)
        return
    await websocket.accept()
    sending = asyncio.Lock()

    async def send(event: dict[str, Any]) -> None:
        async with sending:
            await websocket.send_text(orjson.dumps(event).decode())

    session = RealtimeSession(_context(services, principal), config, send)
    try:
        await session.start()
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                return
            text = message.get("text")
            if text is None:
                await session.receive(b"\x00")  # a binary frame: answered as invalid JSON
                continue
            await session.receive(text)
    except _GONE:
        return
    except Exception:
        log.exception("unhandled error on a realtime connection")
        with contextlib.suppress(*_GONE, RuntimeError):
            await websocket.close(code=1011)
    finally:
        await session.close()


async def _refuse(websocket: WebSocket, error: SwitchyardError) -> None:
    """Refuse the handshake with the HTTP answer the same request would get over HTTP."""
    try:
        await websocket.send_denial_response(render_error(error))
    except RuntimeError:
        await websocket.close(code=1008, reason=error.message[:120])


def _check_session_model(services: Services, principal: Principal, name: str) -> None:
    try:
        allow_model(services, principal, name)
        services.models.resolve(name)
    except SwitchyardError as error:
        error.param = "session.model"
        raise


@endpoint(render_error)
async def create_client_secret(request: Request, services: Services, principal: Principal) -> Response:
    body = await read_json(request, services.settings.max_body_bytes)
    answer = await services.realtime_secrets.create(
        principal, body, lambda model: _default_config(services, model),
        lambda name: _check_session_model(services, principal, name), services.settings.realtime.transcription_model)
    return JSONResponse(answer)


ROUTES: list[Route] = [
    Route("/v1/realtime/client_secrets", create_client_secret, methods=["POST"]),
]
