"""A real MCP server for tests, built with the official SDK (`MCPServer`, the 2.x
name of FastMCP), served by uvicorn on a free loopback port in a background thread.

Tools: ``add(a, b) -> int``, ``echo(text) -> str``, ``fail(reason)`` (answers with
an ``isError`` result), ``reject(code, message)`` (a JSON-RPC error instead of a
result), ``picture()`` (an image block) and ``slow(seconds)``.
``start_mcp_server()`` serves Streamable HTTP at ``/mcp``; with ``legacy_sse_path``
it serves only the older HTTP+SSE transport at that path instead. With ``token``,
every request must carry ``Authorization: Bearer <token>`` (else 401). With
``list_barrier``, a ``tools/list`` request waits at that barrier before it is
answered (servers sharing one see whether their listings run at the same time).
"""

from __future__ import annotations

import asyncio
import base64
import threading
from collections.abc import Callable
from typing import Any

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.mcpserver.utilities.types import Image
from mcp.shared.exceptions import MCPError

from tests.fakes.loopback import Loopback

ASGIApp = Callable[..., Any]

PNG_1PX = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII="
)


def build_server() -> MCPServer:
    server = MCPServer(name="switchyard-test", log_level="WARNING")

    @server.tool(description="Add two integers.")
    def add(a: int, b: int) -> int:
        return a + b

    @server.tool(description="Echo the text back.")
    def echo(text: str) -> str:
        return text

    @server.tool(description="Always fails, with the given reason.")
    def fail(reason: str) -> str:
        raise ToolError(reason)

    @server.tool(description="Answer with a JSON-RPC error instead of a result.")
    def reject(code: int, message: str) -> str:
        raise MCPError(code, message)

    @server.tool(description="A one-pixel PNG.")
    def picture() -> Image:
        return Image(data=PNG_1PX, format="png")

    @server.tool(description="Sleep, then answer.")
    async def slow(seconds: float) -> str:
        await asyncio.sleep(seconds)
        return "done"

    return server


def _require_bearer(app: ASGIApp, token: str) -> ASGIApp:
    expected = f"Bearer {token}".encode()

    async def guarded(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http" and dict(scope["headers"]).get(b"authorization") != expected:
            await send({"type": "http.response.start", "status": 401,
                        "headers": [(b"content-type", b"text/plain"), (b"www-authenticate", b"Bearer")]})
            await send({"type": "http.response.body", "body": b"unauthorized"})
            return
        await app(scope, receive, send)

    return guarded


def _meet_before_listing(app: ASGIApp, barrier: threading.Barrier) -> ASGIApp:
    async def gated(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await app(scope, receive, send)
            return
        messages = []
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request" or not message.get("more_body"):
                break
        if b'"tools/list"' in b"".join(m.get("body", b"") for m in messages):
            await asyncio.to_thread(barrier.wait)  # BrokenBarrierError (a 500) if the other never comes

        async def replay() -> Any:
            return messages.pop(0) if messages else await receive()

        await app(scope, replay, send)

    return gated


def start_mcp_server(
    token: str | None = None, *, legacy_sse_path: str | None = None, list_barrier: threading.Barrier | None = None
) -> tuple[str, Callable[[], None]]:
    """Start the server; return (endpoint URL, stop)."""
    server = build_server()
    if legacy_sse_path is None:
        app: ASGIApp = server.streamable_http_app(streamable_http_path="/mcp")
        path = "/mcp"
    else:
        app = server.sse_app(sse_path=legacy_sse_path, message_path="/messages/")
        path = legacy_sse_path
    if list_barrier is not None:
        app = _meet_before_listing(app, list_barrier)
    if token is not None:
        app = _require_bearer(app, token)
    loopback = Loopback("mcp-server")
    loopback.serve(app, lifespan="on")
    return loopback.url + path, loopback.stop

