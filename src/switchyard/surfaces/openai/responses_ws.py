"""WebSocket mode of ``/v1/responses``: one connection, many ``response.create``
events (each at most the size of a request body: the server's WebSocket frame
limit). Each lane (``stream_id``, or the default lane without one) runs its
responses one after another, in the order sent; lanes run side by side. Every
stream event goes out as one text frame. A client that goes away cancels what
its connection was generating. A draining server closes the connection (1012) once
nothing is in flight on it (``surfaces/drain.py``)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from typing import Any

import orjson
from starlette.websockets import WebSocket, WebSocketDisconnect

from switchyard.core.errors import ErrorKind, SwitchyardError, invalid
from switchyard.gateway.auth import Principal
from switchyard.gateway.telemetry.request_trace import CallServices
from switchyard.surfaces.context import Services, allow_model, caller
from switchyard.surfaces.drain import SocketSender, drained_socket
from switchyard.surfaces.observe import observed_call
from switchyard.surfaces.openai.errors import render_error
from switchyard.surfaces.openai.responses_ws_turn import Lane, SocketResponses, error_event

log = logging.getLogger("switchyard")

MAX_ACTIVE = 16  # responses generating at once on one connection; more wait their turn
MAX_LANES = 32  # distinct named lanes per connection (the default lane is extra)
MAX_WAITING = 64  # response.create events waiting on one connection
_LANE_NAME = re.compile(r"[A-Za-z0-9_.-]{1,256}")
_GONE = (WebSocketDisconnect, OSError)


async def responses_socket(websocket: WebSocket) -> None:
    services: Services = websocket.app.state.services
    try:
        principal = await caller(websocket, services)
    except SwitchyardError as error:
        await _refuse(websocket, error)
        return
    await websocket.accept()
    responses = SocketResponses(services.responses, principal, services.metering,
                                lambda name: allow_model(services, principal, name))
    await Connection(websocket, responses, principal, services.call_services).serve()


async def _refuse(websocket: WebSocket, error: SwitchyardError) -> None:
    """Refuse the handshake with the HTTP answer the same request would get over HTTP."""
    try:
        await websocket.send_denial_response(render_error(error))
    except RuntimeError:  # a server without the denial-response extension: a bare 403
        await websocket.close(code=1008, reason=error.message)


class Connection:
    def __init__(self, websocket: WebSocket, responses: SocketResponses, principal: Principal,
                 call_services: CallServices) -> None:
        self.websocket = websocket
        self.responses = responses
        self.principal = principal
        self.call_services = call_services
        self.lanes: dict[Lane, asyncio.Queue[dict[str, Any]]] = {}
        self.workers: list[asyncio.Task[None]] = []
        self.active = asyncio.Semaphore(MAX_ACTIVE)
        self.sender = SocketSender(websocket)
        self.waiting = 0
        self.running = 0

    async def serve(self) -> None:
        try:
            with drained_socket(self.websocket, self.idle, self.sender.restart):
                while True:
                    message = await self.websocket.receive()
                    if message["type"] == "websocket.disconnect":
                        return
                    await self._take(message.get("text") or message.get("bytes") or "")
        except _GONE:
            return
        finally:
            for worker in self.workers:
                worker.cancel()
            await asyncio.gather(*self.workers, return_exceptions=True)

    def idle(self) -> bool:
        return self.waiting == 0 and self.running == 0

    async def send(self, event: dict[str, Any]) -> None:
        await self.sender.send_text(orjson.dumps(event).decode())

    async def _take(self, raw: str | bytes) -> None:
        lane: Lane = None
        try:
            frame = self._parse(raw)
            lane = _lane_of(frame)
            queue = self._queue(lane)
        except SwitchyardError as error:
            await self.send(error_event(error, lane))
            return
        self.waiting += 1
        queue.put_nowait(frame)

    @staticmethod
    def _parse(raw: str | bytes) -> dict[str, Any]:
        try:
            frame = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise invalid(f"The event is not valid JSON: {exc}", None, "invalid_json") from exc
        if not isinstance(frame, dict):
            raise invalid("The event must be a JSON object.", None, "invalid_json")
        kind = frame.get("type")
        if kind != "response.create":
            shown = kind if isinstance(kind, str) else orjson.dumps(kind).decode()
            raise invalid(f"Invalid value: '{shown}'. Supported values are: 'response.create'.", "type",
                          "invalid_value")
        return frame

    def _queue(self, lane: Lane) -> asyncio.Queue[dict[str, Any]]:
        if self.waiting >= MAX_WAITING:
            raise SwitchyardError(ErrorKind.RATE_LIMIT,
                                  f"Too many response.create events are waiting on this connection "
                                  f"(at most {MAX_WAITING}); wait for some responses to finish.",
                                  code="websocket_queue_full")
        queue = self.lanes.get(lane)
        if queue is not None:
            return queue
        if lane is not None and sum(name is not None for name in self.lanes) >= MAX_LANES:
            raise invalid(f"This WebSocket connection has reached its stream limit ({MAX_LANES} stream_ids).",
                          "stream_id", "websocket_stream_limit_reached")
        queue = self.lanes[lane] = asyncio.Queue()
        self.workers.append(asyncio.create_task(self._work(lane, queue)))
        return queue

    async def _work(self, lane: Lane, queue: asyncio.Queue[dict[str, Any]]) -> None:
        while True:
            frame = await queue.get()
            self.waiting -= 1
            self.running += 1
            try:
                async with self.active, observed_call(self.call_services, self.principal,
                                                      "openai.responses.websocket", "/v1/responses"):
                    await self.responses.create(frame, lane, self.send)
            except _GONE:
                return
            except Exception:
                log.exception("unhandled error in a WebSocket response.create")
                with contextlib.suppress(*_GONE):
                    await self.send(error_event(SwitchyardError(ErrorKind.SERVER, "Internal server error."), lane))
            finally:
                self.running -= 1


def _lane_of(frame: dict[str, Any]) -> Lane:
    lane = frame.get("stream_id")
    if lane is None:
        return None
    if not isinstance(lane, str) or not _LANE_NAME.fullmatch(lane):
        raise invalid("Invalid 'stream_id': expected 1 to 256 ASCII letters, digits, '_', '-' or '.'.",
                      "stream_id", "invalid_stream_id")
    return lane
