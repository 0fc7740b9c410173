"""The floor under the gateway benchmark: the least a Python gateway on Switchyard's own stack
can cost. uvicorn (uvloop, httptools), Starlette and one aiohttp session relay
``/v1/chat/completions`` to the upstream, streamed or not, and do nothing else: no auth,
limits, ledger, metrics, translation or routing. What Switchyard adds above this target is
what its features and its canonical round trip cost; what this target adds above ``direct``
is what the framework, the server and the HTTP client cost.

    UPSTREAM=http://127.0.0.1:PORT uvicorn --app-dir bench floor_proxy:app --loop uvloop --http httptools
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator

import aiohttp
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

UPSTREAM = os.environ["UPSTREAM"]
_session: aiohttp.ClientSession | None = None


def session() -> aiohttp.ClientSession:
    global _session
    if _session is None:
        _session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))
    return _session


async def chat(request: Request) -> Response:
    body = await request.body()
    headers = {"content-type": "application/json", "authorization": request.headers.get("authorization", "")}
    upstream = await session().post(UPSTREAM + "/v1/chat/completions", data=body, headers=headers)
    if upstream.content_type != "text/event-stream":
        payload = await upstream.read()
        upstream.release()
        return Response(payload, status_code=upstream.status, media_type="application/json")

    async def relay() -> AsyncIterator[bytes]:
        try:
            async for piece in upstream.content.iter_any():
                yield piece
        finally:
            upstream.release()

    return StreamingResponse(relay(), status_code=upstream.status, media_type="text/event-stream")


async def health(request: Request) -> Response:
    return Response(b"ok")


app = Starlette(routes=[Route("/v1/chat/completions", chat, methods=["POST"]), Route("/health", health)])
