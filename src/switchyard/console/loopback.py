"""Calls from the console into Switchyard's own public API, in process: the same
surfaces, validation, routing, metering and error shapes a client gets, acting as the
organization owner in the project the operator chose (the principal rides in the ASGI
scope, where no client can put it). ``relay`` streams the answer straight to the
browser (playground, uploads); ``call`` collects it for a page to render."""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import urlencode

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Message, Receive, Scope, Send

from switchyard.surfaces.context import INPROCESS_PRINCIPAL, services_of

ROUTING_KEYS = ("router", "endpoint", "path_params", "route", "root_path_params")


async def _scope(request: Request, project_id: str, method: str, path: str, query: dict[str, Any] | None,
                 headers: list[tuple[bytes, bytes]]) -> Scope:
    principal = await services_of(request).auth.acting_in(project_id)
    scope = {k: v for k, v in request.scope.items() if k not in ROUTING_KEYS}
    scope.update(method=method, path=path, raw_path=path.encode(), root_path="",
                 query_string=urlencode(query or {}, doseq=True).encode(), headers=headers)
    scope[INPROCESS_PRINCIPAL] = principal
    return scope


def _body_receive(body: bytes, then: Receive) -> Receive:
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await then()  # the browser's disconnect, if it leaves

    return receive


def _json_headers(body: bytes) -> list[tuple[bytes, bytes]]:
    return [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
            (b"host", b"console")]


class Relay(Response):
    """A response that is the inner call's answer, streamed as it comes."""

    def __init__(self, project_id: str, method: str, path: str, *, json: Any = None, passthrough: bool = False,
                 query: dict[str, Any] | None = None) -> None:  # no Response state is used
        self.project_id, self.method, self.path, self.query = project_id, method, path, query
        self.json, self.passthrough = json, passthrough

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        if self.passthrough:  # the browser's own body (a multipart upload), streamed on unread
            keep = (b"content-type", b"content-length")
            headers = [(k, v) for k, v in scope["headers"] if k in keep] + [(b"host", b"console")]
            inner = await _scope(request, self.project_id, self.method, self.path, self.query, headers)
            await scope["app"](inner, receive, send)
            return
        body = orjson.dumps(self.json) if self.json is not None else b""
        inner = await _scope(request, self.project_id, self.method, self.path, self.query, _json_headers(body))
        await scope["app"](inner, _body_receive(body, receive), send)


async def call(request: Request, project_id: str, method: str, path: str, *, json: Any = None,
               query: dict[str, Any] | None = None) -> tuple[int, Any]:
    """The inner call's status and decoded JSON body."""
    body = orjson.dumps(json) if json is not None else b""
    inner = await _scope(request, project_id, method, path, query, _json_headers(body))
    status = 500
    chunks: list[bytes] = []

    async def never() -> Message:  # the console's page waits for the answer: no disconnect
        await asyncio.Event().wait()
        raise AssertionError("unreachable")

    async def send(message: Message) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await request.scope["app"](inner, _body_receive(body, never), send)
    raw = b"".join(chunks)
    try:
        return status, orjson.loads(raw) if raw else None
    except orjson.JSONDecodeError:
        return status, raw.decode(errors="replace")
