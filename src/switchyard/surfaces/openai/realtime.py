"""The Realtime API over a WebSocket: ``wss /v1/realtime?model=...``, authenticated by an
API key (``Authorization: Bearer``) or an ephemeral client secret (``ek_...``, made by
``POST /v1/realtime/client_secrets``). Each text frame is one client event; the session
(``engine/realtime``) answers with server events, one per frame. A draining server closes
a session (1012) once no response is in flight on it, a relayed or sideband one at the
drain's deadline (``surfaces/drain.py``)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.websockets import WebSocket, WebSocketDisconnect

from switchyard.config import ModelConfig
from switchyard.core.errors import SwitchyardError, invalid
from switchyard.engine.realtime.calls import RealtimeCall
from switchyard.engine.realtime.client_secrets import session_model
from switchyard.engine.realtime.relay import RelaySession
from switchyard.engine.realtime.session import CallerRevoked, RealtimeSession
from switchyard.gateway.auth import Principal
from switchyard.gateway.realtime_upstreams import RealtimeUpstreams
from switchyard.surfaces.context import Services, allow_model, endpoint
from switchyard.surfaces.drain import SocketSender, drained_socket
from switchyard.surfaces.http import JSONResponse, read_json
from switchyard.surfaces.openai.errors import render_error
from switchyard.surfaces.openai.realtime_setup import (
    authenticate,
    check_transcription_model,
    default_config,
    session_config,
    session_context,
    transcription_session_config,
)

log = logging.getLogger("switchyard")
_GONE = (WebSocketDisconnect, OSError)
MAX_FRAME = 16 * 1024 * 1024




def _is_transcription(websocket: WebSocket, preset: dict[str, Any] | None) -> bool:
    if preset is not None:
        return preset.get("type") == "transcription"
    return websocket.query_params.get("intent") == "transcription"


def _model(websocket: WebSocket, preset: dict[str, Any] | None) -> str:
    model = websocket.query_params.get("model") or (session_model(preset) if preset else None)
    if not model:
        raise invalid("Missing required parameter: 'model' (give it in the URL: /v1/realtime?model=...; a "
                      "transcription session takes ?intent=transcription instead).", "model",
                      "missing_required_parameter")
    return model





async def _relay(websocket: WebSocket, services: Services, principal: Principal, model: ModelConfig,
                 preset: dict[str, Any] | None) -> None:
    """The whole session relayed to the model's upstream realtime endpoint (refused with the
    upstream's failure when it cannot be opened)."""
    relay = await RelaySession.open(session_context(services, principal), model, websocket.send_text)
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
        with drained_socket(websocket, _never_idle, SocketSender(websocket).restart):
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



async def realtime_socket(websocket: WebSocket) -> None:
    services: Services = websocket.app.state.services
    try:
        principal, preset = await authenticate(websocket, services)
        call_id = websocket.query_params.get("call_id")
        if call_id:
            await _join_call(websocket, services.realtime_calls.get(call_id, principal.owner_id))
            return
        if _is_transcription(websocket, preset):
            config = transcription_session_config(services, principal, preset)
        else:
            model = _model(websocket, preset)
            relayed = RealtimeUpstreams(list(services.settings.models)).find(model)
            if relayed is not None:
                allow_model(services, principal, model)
                await _relay(websocket, services, principal, relayed, preset)
                return
            config = session_config(services, principal, model, preset)
    except SwitchyardError as error:
        await _refuse(websocket, error)
        return
    await websocket.accept()
    sender = SocketSender(websocket)

    async def send(event: dict[str, Any]) -> None:
        await sender.send_text(orjson.dumps(event).decode())

    session = RealtimeSession(session_context(services, principal), config, send)
    try:
        await session.start()
        with drained_socket(websocket, lambda: session.run is None, sender.restart):
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
    except CallerRevoked:
        with contextlib.suppress(*_GONE, RuntimeError):
            await websocket.close(code=1008, reason="the API key was revoked or disabled")
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
        with drained_socket(websocket, _never_idle, SocketSender(websocket).restart):
            while True:
                message = await websocket.receive()
                if message["type"] == "websocket.disconnect":
                    return
                await call.from_client(message["text"] if message.get("text") is not None else "\u0000")
    except (*_GONE, RuntimeError):
        return
    finally:
        call.unlisten(token)


def _never_idle() -> bool:
    """A relayed session or a call's sideband: what is in flight is not known here; the
    drain closes it at its deadline."""
    return False


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
        principal, body, lambda model: default_config(services, model),
        lambda name: _check_session_model(services, principal, name), services.settings.realtime.transcription_model,
        lambda config: check_transcription_model(services, principal, config))
    return JSONResponse(answer)


ROUTES: list[Route] = [
    Route("/v1/realtime/client_secrets", create_client_secret, methods=["POST"]),
]
