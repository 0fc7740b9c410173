"""A client for remote MCP servers, as the Responses API's ``mcp`` tool uses them.

Built on the official ``mcp`` SDK. Every operation opens its own session (connect,
negotiate, one request, close), so calls share no state and may run concurrently;
each is bounded by ``timeout`` as a whole, including the connection.

Transport: Streamable HTTP. A URL whose path ends in ``/sse`` goes straight to the
older HTTP+SSE transport, and so does one whose first POST is answered 404 or 405
(the mark of a server that only speaks HTTP+SSE). ``headers`` go on every request.

Every connection goes through the egress policy (``switchyard.net``): a server at
an address the policy refuses is an ``McpError`` saying so, before any packet.

Errors: anything that keeps an answer from arriving (no connection, an HTTP error
status, a JSON-RPC error, a malformed reply, the timeout) raises ``McpError`` naming
the server (scheme, host and path only: query strings and userinfo may hold keys)
and why. A refused connection, a closed port and a silent one read alike, so the
errors do not tell a caller which ports of a host are open. A tool that reports
failure (``isError``) is an ``McpResult`` with ``is_error=True``, and so is a
``tools/call`` the server rejects as invalid params (-32602, which the MCP spec also
uses for an unknown tool): the model can correct both, so they are results rather
than exceptions.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlsplit

import anyio
import httpx2
import mcp_types
import orjson
import pydantic
from mcp import Client
from mcp.client.sse import sse_client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError

from switchyard import __version__
from switchyard.net.egress import EgressDenied, EgressPolicy
from switchyard.net.pinned import guarded_client
from switchyard.tools.mcp_errors import describe, display, leaf, unreachable

_T = TypeVar("_T")
_MAX_TOOL_PAGES = 100
_LEGACY_STATUSES = (404, 405)
_CLIENT_INFO = mcp_types.Implementation(name="switchyard", version=__version__)


@dataclass(frozen=True, slots=True)
class McpTool:
    name: str
    description: str | None
    input_schema: dict[str, Any]
    annotations: dict[str, Any] | None


@dataclass(frozen=True, slots=True)
class McpResult:
    output: str
    is_error: bool


class McpError(Exception):
    """The server could not be reached or did not answer properly; the message says which and why."""


Operation = Callable[[Client], Awaitable[_T]]


class McpClient:
    def __init__(self, *, timeout: float = 30.0, egress: EgressPolicy | None = None) -> None:
        self._timeout = timeout
        self._egress = egress if egress is not None else EgressPolicy()
        self._closed = False

    async def list_tools(self, server_url: str, headers: dict[str, str] | None = None) -> list[McpTool]:
        return await self._run(server_url, headers, _list_tools)

    async def call_tool(
        self, server_url: str, headers: dict[str, str] | None, name: str, arguments: dict[str, Any]
    ) -> McpResult:
        async def call(client: Client) -> McpResult:
            return await _call_tool(client, name, arguments)

        return await self._run(server_url, headers, call)

    async def check_url(self, server_url: str) -> None:
        """Raises ``EgressDenied`` if the policy refuses the server's host (resolved now;
        every connection is checked again when it is made)."""
        parts = urlsplit(server_url)
        try:
            port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError as exc:
            raise EgressDenied("the URL has an invalid port") from exc
        if not parts.hostname:
            raise EgressDenied("the URL has no host")
        await self._egress.resolve(parts.hostname, port)

    async def aclose(self) -> None:
        self._closed = True

    async def _run(self, url: str, headers: dict[str, str] | None, op: Operation[_T]) -> _T:
        where = display(url)
        if self._closed:
            raise McpError(f"MCP server {where}: the client is closed")
        try:
            with anyio.fail_after(self._timeout):
                return await self._connect_and_run(url, headers or {}, op)
        except McpError:
            raise
        except TimeoutError as exc:
            raise McpError(f"MCP server {where}: {unreachable(self._timeout)}") from exc

    async def _connect_and_run(self, url: str, headers: dict[str, str], op: Operation[_T]) -> _T:
        if _path_of(url).rstrip("/").endswith("/sse"):
            return await self._attempt(self._sse, url, headers, op)
        attempt = _Attempt()
        try:
            return await attempt.run(self._streamable(url, headers, attempt), self._timeout, op)
        except Exception as exc:
            why = describe(exc, attempt.statuses, self._timeout)
            first = attempt.statuses[0] if attempt.statuses else None
            if attempt.connected or first not in _LEGACY_STATUSES:
                raise McpError(f"MCP server {display(url)}: {why}") from leaf(exc)
        return await self._attempt(self._sse, url, headers, op, f"Streamable HTTP: {why}; HTTP+SSE fallback: ")

    async def _attempt(
        self,
        transport: Callable[[str, dict[str, str], _Attempt], AbstractAsyncContextManager[Any]],
        url: str,
        headers: dict[str, str],
        op: Operation[_T],
        context: str = "",
    ) -> _T:
        attempt = _Attempt()
        try:
            return await attempt.run(transport(url, headers, attempt), self._timeout, op)
        except Exception as exc:
            why = describe(exc, attempt.statuses, self._timeout)
            raise McpError(f"MCP server {display(url)}: {context}{why}") from leaf(exc)

    def _streamable(self, url: str, headers: dict[str, str], attempt: _Attempt) -> AbstractAsyncContextManager[Any]:
        http_client = _http_client(self._egress, headers, self._timeout, attempt)
        return _streamable_transport(url, http_client)

    def _sse(self, url: str, headers: dict[str, str], attempt: _Attempt) -> AbstractAsyncContextManager[Any]:
        def factory(
            headers: dict[str, str] | None = None,
            timeout: httpx2.Timeout | None = None,
            auth: httpx2.Auth | None = None,
        ) -> httpx2.AsyncClient:
            return _http_client(self._egress, headers or {}, self._timeout, attempt, auth=auth)

        return sse_client(url, headers=headers, timeout=self._timeout, sse_read_timeout=self._timeout,
                          httpx_client_factory=factory)


class _Attempt:
    """One connection attempt: the HTTP statuses it saw, and whether the session came up."""

    def __init__(self) -> None:
        self.statuses: list[int] = []
        self.connected = False

    async def record(self, response: httpx2.Response) -> None:
        self.statuses.append(response.status_code)

    async def run(self, transport: AbstractAsyncContextManager[Any], timeout: float, op: Operation[_T]) -> _T:
        async with Client(transport, read_timeout_seconds=timeout, client_info=_CLIENT_INFO, cache=None) as client:
            self.connected = True
            return await op(client)


def _http_client(
    egress: EgressPolicy, headers: dict[str, str], timeout: float, attempt: _Attempt,
    auth: httpx2.Auth | None = None,
) -> httpx2.AsyncClient:
    return guarded_client(
        egress, headers=headers, timeout=httpx2.Timeout(timeout), auth=auth,
        event_hooks={"response": [attempt.record]},
    )


@asynccontextmanager
async def _streamable_transport(url: str, http_client: httpx2.AsyncClient) -> AsyncIterator[Any]:
    async with http_client, streamable_http_client(url, http_client=http_client) as streams:
        yield streams


async def _list_tools(client: Client) -> list[McpTool]:
    tools: list[McpTool] = []
    cursor: str | None = None
    for _ in range(_MAX_TOOL_PAGES):
        page = await client.list_tools(cursor=cursor)
        tools.extend(_tool(tool) for tool in page.tools)
        cursor = page.next_cursor
        if cursor is None:
            break
    return tools


def _tool(tool: mcp_types.Tool) -> McpTool:
    annotations = tool.annotations.model_dump(by_alias=True, exclude_none=True) if tool.annotations else None
    return McpTool(name=tool.name, description=tool.description, input_schema=dict(tool.input_schema),
                   annotations=annotations)


async def _call_tool(client: Client, name: str, arguments: dict[str, Any]) -> McpResult:
    try:
        result = await client.call_tool(name, arguments)
    except MCPError as exc:
        if exc.code != mcp_types.INVALID_PARAMS:
            raise
        return McpResult(output=exc.message, is_error=True)
    return McpResult(output=render_output(result), is_error=bool(result.is_error))


def render_output(result: mcp_types.CallToolResult) -> str:
    """Text blocks joined by newlines; other blocks as short JSON; structuredContent as JSON when no text."""
    parts: list[str] = []
    has_text = False
    for block in result.content:
        if isinstance(block, mcp_types.TextContent):
            has_text = True
            parts.append(block.text)
        else:
            parts.append(_json(_describe_block(block)))
    if not has_text and result.structured_content is not None:
        parts.append(_json(result.structured_content))
    return "\n".join(parts)


def _describe_block(block: pydantic.BaseModel) -> dict[str, Any]:
    """The block without its payload bytes (image/audio ``data``, resource ``blob``) or metadata."""
    described = block.model_dump(by_alias=True, exclude_none=True, mode="json")
    for key in ("data", "_meta", "annotations"):
        described.pop(key, None)
    resource = described.get("resource")
    if isinstance(resource, dict):
        resource.pop("blob", None)
        resource.pop("_meta", None)
    return {"type": described.pop("type", None), **described}


def _json(value: Any) -> str:
    return orjson.dumps(value).decode()


def _path_of(url: str) -> str:
    return urlsplit(url).path
