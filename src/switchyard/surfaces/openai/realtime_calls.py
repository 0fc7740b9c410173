"""Realtime over WebRTC: ``POST /v1/realtime/calls`` takes the caller's SDP offer (a
multipart form with ``sdp`` and an optional ``session``, as the SDK's
``client.realtime.calls.create`` sends it, or a bare ``application/sdp`` body made with a
client secret) and answers ``201`` with the SDP answer and the call's ``Location``;
``POST /v1/realtime/calls/{call_id}/hangup`` ends it. A server joins a live call with
``wss /v1/realtime?call_id=...`` (``realtime.py``). SIP calls are not served: accept,
reject and refer answer as for a call that cannot take them."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from switchyard.core.errors import ErrorKind, SwitchyardError, invalid
from switchyard.engine.realtime.session import RealtimeSession
from switchyard.gateway.auth import Principal
from switchyard.gateway.realtime_upstreams import RealtimeUpstreams
from switchyard.surfaces.context import Services, endpoint, services_of
from switchyard.surfaces.http import read_body
from switchyard.surfaces.multipart import form_parts, read_field
from switchyard.surfaces.openai.errors import render_error
from switchyard.surfaces.openai.realtime_setup import authenticate, session_config, session_context

SDP = "application/sdp"
MAX_OFFER_BYTES = 64 * 1024


async def _offer(request: Request) -> tuple[str, dict[str, Any] | None]:
    """The SDP offer and the ``session`` of the form (None when not given)."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind == SDP:
        return (await read_body(request, MAX_OFFER_BYTES)).decode("utf-8", "replace"), None
    if kind != "multipart/form-data":
        raise invalid("The body must be a multipart form (fields 'sdp' and 'session') or an application/sdp "
                      "offer.", None, "invalid_content_type")
    sdp: str | None = None
    session: dict[str, Any] | None = None
    async for part, body in form_parts(request):
        if part.name == "sdp":
            sdp = await read_field(part, body, MAX_OFFER_BYTES)
        elif part.name == "session":
            session = _session(await read_field(part, body))
        else:
            raise invalid(f"Unknown parameter: '{part.name}'.", part.name, "unknown_parameter")
    if not sdp:
        raise invalid("Missing required parameter: 'sdp'.", "sdp", "missing_required_parameter")
    return sdp, session


def _session(text: str) -> dict[str, Any]:
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError as error:
        raise invalid(f"'session' is not valid JSON: {error}", "session", "invalid_json") from error
    if not isinstance(value, dict):
        raise invalid("'session' must be a JSON object.", "session", "invalid_type")
    return value


def _model(request: Request, session: dict[str, Any] | None, preset: dict[str, Any] | None) -> str:
    for given in (session, preset):
        if given is not None and isinstance(given.get("model"), str) and given["model"]:
            return str(given["model"])
    model = request.query_params.get("model")
    if not model:
        raise invalid("Missing required parameter: 'session.model'.", "session.model", "missing_required_parameter")
    return model


async def create_call(request: Request) -> Response:
    services = services_of(request)
    try:
        principal, preset = await authenticate(request, services)
        sdp, session = await _offer(request)
        model = _model(request, session, preset)
        if RealtimeUpstreams(list(services.settings.models)).find(model) is not None:
            raise invalid(f"The model '{model}' is relayed to an upstream realtime endpoint, which Switchyard "
                          "reaches over a WebSocket only: use wss /v1/realtime for it.", "session.model",
                          "unsupported_model")
        merged = {**(preset or {}), **(session or {}), "model": model}
        config = session_config(services, principal, model, merged)
        try:
            from switchyard.surfaces.openai.webrtc_call import WebRtcCall
        except ImportError as error:  # aiortc comes with the 'local' extra
            raise SwitchyardError(ErrorKind.INVALID_REQUEST, "WebRTC calls need the 'aiortc' package, which this "
                                  "installation lacks (pip install 'switchyard[local]').", status=501,
                                  code="webrtc_unavailable") from error
        call = WebRtcCall(services.realtime_calls, principal.owner_id,
                          lambda send: RealtimeSession(session_context(services, principal), config, send,
                                                      pcm_only=True))
        answer = await call.answer(sdp)
    except SwitchyardError as error:
        return render_error(error)
    return Response(answer, status_code=201, media_type=SDP, headers={"Location": f"/v1/realtime/calls/{call.id}"})


@endpoint(render_error)
async def hangup_call(request: Request, services: Services, principal: Principal) -> Response:
    call = services.realtime_calls.get(request.path_params["call_id"], principal.owner_id)
    await call.hangup()
    return Response(status_code=200)


@endpoint(render_error)
async def sip_only(request: Request, services: Services, principal: Principal) -> Response:
    """accept, reject and refer act on SIP calls; a WebRTC call cannot take them."""
    services.realtime_calls.get(request.path_params["call_id"], principal.owner_id)
    done = {"accept": "accepted", "reject": "rejected", "refer": "referred"}[request.url.path.rsplit("/", 1)[-1]]
    raise SwitchyardError(ErrorKind.INVALID_REQUEST, f"Only SIP calls can be {done}; this call was made over "
                          "WebRTC, and Switchyard has no SIP trunk.", param="call_id", code="invalid_call_type")


ROUTES: list[Route] = [
    Route("/v1/realtime/calls", create_call, methods=["POST"]),
    Route("/v1/realtime/calls/{call_id}/hangup", hangup_call, methods=["POST"]),
    *[Route(f"/v1/realtime/calls/{{call_id}}/{action}", sip_only, methods=["POST"])
      for action in ("accept", "reject", "refer")],
]
