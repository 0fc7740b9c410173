"""How an MCP failure reads: the server named without secrets, the first real cause
found inside the SDK's exception groups, and one wording for every way a server
can fail to be reached, so that errors do not reveal which ports are open."""

from __future__ import annotations

import http
from collections.abc import Iterator
from urllib.parse import urlsplit

import anyio
import httpx2
import pydantic
from mcp.shared.exceptions import MCPError

from switchyard.net.egress import EgressDenied

# What the SDK's Streamable HTTP transport reports for an HTTP error status without a JSON-RPC body.
_SDK_STAND_INS = frozenset({"Server returned an error response", "Not Found", "Session terminated"})


def _leaves(exc: BaseException) -> Iterator[BaseException]:
    if isinstance(exc, BaseExceptionGroup):
        for inner in exc.exceptions:
            yield from _leaves(inner)
    else:
        yield exc


def leaf(exc: BaseException) -> BaseException:
    """The first real cause inside the SDK's (nested) task-group exception groups."""
    leaves = [leaf for leaf in _leaves(exc) if not isinstance(leaf, anyio.get_cancelled_exc_class())]
    return leaves[0] if leaves else exc


def unreachable(timeout: float) -> str:
    return f"cannot be reached (no connection, or no answer within {timeout:g}s)"


def describe(exc: BaseException, statuses: list[int], timeout: float) -> str:
    reasons: list[str] = []
    for leaf in _leaves(exc):
        if isinstance(leaf, anyio.get_cancelled_exc_class()):
            continue
        reason = _reason(leaf, statuses, timeout)
        if reason not in reasons:
            reasons.append(reason)
    return "; ".join(reasons) or type(exc).__name__


def _reason(exc: BaseException, statuses: list[int], timeout: float) -> str:
    failed = [status for status in statuses if status >= 400]
    if isinstance(exc, EgressDenied):
        return f"not allowed: {exc}"
    if isinstance(exc, httpx2.HTTPStatusError):
        return _status_text(exc.response.status_code)
    if isinstance(exc, MCPError):
        if failed and exc.message in _SDK_STAND_INS:
            return _status_text(failed[-1])
        return f"JSON-RPC error {exc.code}: {exc.message}"
    if isinstance(exc, httpx2.TransportError | OSError | TimeoutError):
        return unreachable(timeout)
    if isinstance(exc, pydantic.ValidationError):
        return f"malformed reply ({exc.error_count()} validation errors)"
    return f"{type(exc).__name__}: {exc}"


def _status_text(status: int) -> str:
    try:
        phrase = http.HTTPStatus(status).phrase
    except ValueError:
        return f"HTTP {status}"
    return f"HTTP {status} {phrase}"


def display(url: str) -> str:
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    try:
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        port = ""
    return f"{parts.scheme}://{host}{port}{parts.path}" if parts.scheme else url
