"""Upstream failures mapped onto the canonical error taxonomy."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import aiohttp
import orjson

from switchyard.core.errors import ErrorKind, SwitchyardError


def _upstream_message(body: bytes) -> str:
    try:
        parsed: Any = orjson.loads(body)
    except orjson.JSONDecodeError:
        return body[:500].decode(errors="replace")
    if isinstance(parsed, dict):
        err = parsed.get("error", parsed)
        if isinstance(err, dict) and isinstance(err.get("message"), str):
            return err["message"]
        if isinstance(err, str):
            return err
    return str(parsed)[:500]


def from_status(status: int, body: bytes, headers: Mapping[str, str]) -> SwitchyardError:
    """An upstream HTTP error as the error our client should see: the client's own
    mistakes stay 4xx, the upstream's become 502/503/504."""
    message = _upstream_message(body)
    if status == 429:
        return SwitchyardError(
            ErrorKind.RATE_LIMIT,
            f"Upstream rate limit: {message}",
            code="rate_limit_exceeded",
            retry_after=headers.get("retry-after"),
        )
    if status in (400, 422):
        return SwitchyardError(ErrorKind.INVALID_REQUEST, f"Upstream rejected the request: {message}")
    if status == 413:
        return SwitchyardError(ErrorKind.REQUEST_TOO_LARGE, f"Upstream: {message}")
    if status in (408, 504):
        return SwitchyardError(ErrorKind.TIMEOUT, f"Upstream timed out: {message}")
    if status in (503, 529):
        return SwitchyardError(
            ErrorKind.OVERLOADED, f"Upstream overloaded: {message}", retry_after=headers.get("retry-after")
        )
    return SwitchyardError(
        ErrorKind.UPSTREAM, f"Upstream error (HTTP {status}): {message}", code="upstream_error"
    )


def from_exception(exc: Exception) -> SwitchyardError:
    if isinstance(exc, SwitchyardError):
        return exc
    if isinstance(exc, TimeoutError):  # aiohttp's connect and read timeouts are TimeoutErrors
        return SwitchyardError(ErrorKind.TIMEOUT, f"Upstream timed out ({type(exc).__name__}).")
    if isinstance(exc, aiohttp.ClientError | OSError):
        return SwitchyardError(
            ErrorKind.UPSTREAM, f"Upstream connection failed: {type(exc).__name__}: {exc}",
            code="upstream_error",
        )
    if isinstance(exc, orjson.JSONDecodeError | ValueError | KeyError | TypeError):
        return SwitchyardError(
            ErrorKind.UPSTREAM, f"Upstream sent a malformed answer: {exc}", code="upstream_error"
        )
    raise exc
