"""The Realtime API over a WebSocket: ``wss /v1/realtime?model=...``, authenticated by an
API key (``Authorization: Bearer``) or an ephemeral client secret (``ek_...``, made by
``POST /v1/realtime/client_secrets``). Each text frame is one client event; the session
(``engine/realtime``) answers with server events, one per frame."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any

import orjson
from starlette.requests import HTTPConnection, Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.websockets import WebSocket, WebSocketDisconnect

from switchyard.codecs.openai_realtime.session import SessionConfig, apply_update
from switchyard.config import ModelConfig
from switchyard.core.errors import ErrorKind, SwitchyardError, invalid
from switchyard.engine.realtime.calls import RealtimeCall
from switchyard.engine.realtime.client_secrets import is_client_secret, session_model
from switchyard.engine.realtime.context import RealtimeContext
from switchyard.engine.realtime.relay import RelaySession
from switchyard.engine.realtime.session import RealtimeSession
from switchyard.gateway.auth import Principal, presented_keys
from switchyard.gateway.realtime_upstreams import RealtimeUpstreams
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


def _model(websocket: WebSocket, preset: dict[str, Any] | None) -> str:
    model = websocket.query_params.get("model") or (session_model(preset) if preset else None)
    if not model:
        raise invalid("Missing required parameter: 'model' (give it in the URL: /v1/realtime?model=...).", "model",
                      "missing_required_parameter")
    return model


def _config(services: Services, principal: Principal, model: str, preset: dict[str, Any] | None) -> SessionConfig:
    """The session's starting configuration on a routed chat model (with a client secret's)."""
    allow_model(services, principal, model)
    services.models.resolve(model)
    config = _default_config(services, model)
    if preset is not None:
        config = apply_update(config, {**preset, "model": model},
                              default_stt=services.settings.realtime.transcription_model)
    return config


async def _relay(websocket: WebSocket, services: Services, principal: Principal, model: ModelConfig,
                 preset: dict[str, Any] | None) -> None:
    """The whole session relayed to the model's upstream realtime endpoint (refused with the
    upstream's failure when it cannot be opened)."""
    relay = await RelaySession.open(_context(services, principal), model, websocket.send_text)
    await websocket.accept()

    async def pump() -> None:
        try:
            await relay.pump()
        except Exception:
            log.exception("relaying a realtime session failed")
        with contextlib.suppress(*_GONE, RuntimeError):
            await websocket.close()

    pumping = asyncio.create_task(pump())
    try:
        if preset:
            fields = {k: v for k, v in preset.items() if k != "model"}
            await relay.from_client(orjson.dumps({"type": "session.update", "session": fields}).decode())
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                return
            if message.get("text") is not None:
                await relay.from_client(message["text"])
    except (*_GONE, RuntimeError):
        return
    finally:
        pumping.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await pumping
        await relay.aclose()


async def _authenticate(websocket: HTTPConnection, services: Services) -> tuple[Principal, dict[str, Any] | None]:
    """An API key's caller, or a client secret's caller and session."""
    keys = presented_keys(websocket.headers)
    if keys and is_client_secret(keys[0]):
        opened = await services.realtime_secrets.open(keys[0])
        if opened is None:
            raise SwitchyardError(ErrorKind.AUTHENTICATION, "The client secret is not valid or has expired.",
                                  code="invalid_api_key")
        return opened
    return await caller(websocket, services), None


async def realtime_socket(websocket: WebSocket) -> None:
    services: Services = websocket.app.state.services
    try:
        principal, preset = await _authenticate(websocket, services)
        call_id = websocket.query_params.get("call_id")
        if call_id:
            await _join_call(websocket, services.realtime_calls.get(call_id, principal.owner_id))
            return
        model = _model(websocket, preset)
        relayed = RealtimeUpstreams(list(services.settings.models)).find(model)
        if relayed is not None:
            allow_model(services, principal, model)
            await _relay(websocket, services, principal, relayed, preset)
            return
        config = _config(services, principal, model, preset)
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
            try:
                message = await asyncio.wait_for(websocket.receive(), max(0.0, session.expires_at - time.time()))
            except TimeoutError:
                await session.expire()
                await websocket.close(code=1000, reason="session expired")
                return
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


async def _join_call(websocket: WebSocket, call: RealtimeCall) -> None:
    """A sideband connection to a live WebRTC call: every server event from now on, and
    client events sent into the call as if from its peer; it closes when the call ends."""
    await websocket.accept()

    async def send(event: dict[str, Any]) -> None:
        await websocket.send_text(orjson.dumps(event).decode())

    async def close() -> None:
        await websocket.close(code=1000, reason="call ended")

    token = call.listen(send, close)
    try:
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                return
            await call.from_client(message["text"] if message.get("text") is not None else "\u0000")
    except (*_GONE, RuntimeError):
        return
    finally:
        call.unlisten(token)


async def _refuse(websocket: WebSocket, error: SwitchyardError) -> None:
    """Refuse the handshake with the HTTP answer the same request would get over HTTP."""
    try:
        await websocket.send_denial_response(render_error(error))
    except RuntimeError:
        await websocket.close(code=1008, reason=error.message[:120])


def _check_session_model(services: Services, principal: Principal, name: str) -> None:
    try:
        allow_model(services, principal, name)
        if RealtimeUpstreams(list(services.settings.models)).find(name) is None:
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
