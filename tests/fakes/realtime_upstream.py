"""A loopback upstream realtime server speaking the GA protocol over a real WebSocket, for
the relay tests: it records each connection's headers, model and client events, greets
with ``session.created``, answers ``session.update`` with ``session.updated`` and
``response.create`` with a short text response (with usage) or, for a bad event, an
``error`` event."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from tests.fakes.loopback import Loopback

KEY = "upstream-realtime-key"
ANSWER = "Relayed answer."
USAGE = {"total_tokens": 13, "input_tokens": 9, "output_tokens": 4,
         "input_token_details": {"cached_tokens": 0, "text_tokens": 9, "audio_tokens": 0, "image_tokens": 0},
         "output_token_details": {"text_tokens": 4, "audio_tokens": 0}}


@dataclass
class Connection:
    headers: dict[str, str]
    model: str | None
    events: list[dict[str, Any]] = field(default_factory=list)


class FakeRealtimeUpstream(Loopback):
    def __init__(self) -> None:
        super().__init__("fake-realtime-upstream")
        self.connections: list[Connection] = []
        self._ids = itertools.count()

    def _id(self, prefix: str) -> str:
        return f"{prefix}up{next(self._ids)}"

    async def _socket(self, websocket: WebSocket) -> None:
        if websocket.headers.get("authorization") != f"Bearer {KEY}":
            await websocket.close(code=1008)
            return
        await websocket.accept()
        seen = Connection(dict(websocket.headers), websocket.query_params.get("model"))
        self.connections.append(seen)
        session = {"type": "realtime", "object": "realtime.session", "id": "sess_upstream",
                   "model": seen.model, "output_modalities": ["text"], "instructions": "upstream default"}

        async def send(kind: str, **fields: Any) -> None:
            await websocket.send_text(orjson.dumps({"event_id": self._id("event_"), "type": kind, **fields}).decode())

        await send("session.created", session=session)
        try:
            while True:
                event = orjson.loads(await websocket.receive_text())
                seen.events.append(event)
                if event.get("type") == "session.update":
                    session = {**session, **event.get("session", {})}
                    await send("session.updated", session=session)
                elif event.get("type") == "response.create":
                    await self._respond(send)
                else:
                    await send("error", error={"type": "invalid_request_error", "code": "unknown_event",
                                               "message": "unknown event", "param": "type",
                                               "event_id": event.get("event_id")})
        except WebSocketDisconnect:
            return

    async def _respond(self, send: Any) -> None:
        response_id, item_id = self._id("resp_"), self._id("item_")
        base = {"object": "realtime.response", "id": response_id, "output_modalities": ["text"]}
        await send("response.created", response={**base, "status": "in_progress", "output": []})
        item = {"id": item_id, "type": "message", "object": "realtime.item", "role": "assistant",
                "status": "completed", "content": [{"type": "output_text", "text": ANSWER}]}
        await send("response.output_text.delta", response_id=response_id, item_id=item_id, output_index=0,
                   content_index=0, delta=ANSWER)
        await send("response.done", response={**base, "status": "completed", "output": [item], "usage": USAGE})

    def start(self) -> None:
        self.serve(Starlette(routes=[WebSocketRoute("/v1/realtime", self._socket)]))
