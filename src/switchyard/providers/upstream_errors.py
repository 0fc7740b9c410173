"""Upstream failures mapped onto the canonical error taxonomy, and what each one
means for routing: may the request go to another deployment (``retryable``), and
does it count against the deployment's health (``unhealthy``).

An error that names an upstream HTTP status is an ``UpstreamError`` carrying it;
an error decoded from inside a stream (a vendor's ``error`` event) is a plain
``SwitchyardError`` and is judged by its kind."""

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


class UpstreamError(SwitchyardError):
    """A failure of the upstream itself: an HTTP error status (``upstream_status``),
    or no answer at all (``upstream_status`` None: timeout, refused or broken connection,
    malformed body)."""

    def __init__(self, kind: ErrorKind, message: str, *, upstream_status: int | None = None,
                 code: str | None = None, retry_after: str | None = None) -> None:
        super().__init__(kind, message, code=code, retry_after=retry_after)
        self.upstream_status = upstream_status


# Upstream statuses another deployment may well answer; every other 4xx is the request's fault.
RETRYABLE_STATUSES = frozenset({408, 409, 425, 429, 500, 502, 503, 504, 529})
# Statuses that say this deployment is broken for every request (bad credentials).
UNHEALTHY_NOT_RETRYABLE = frozenset({401, 403})
RETRYABLE_KINDS = frozenset({ErrorKind.RATE_LIMIT, ErrorKind.UPSTREAM, ErrorKind.OVERLOADED, ErrorKind.TIMEOUT})


def retryable(error: SwitchyardError) -> bool:
    """May this request be sent to another deployment after this error?"""
    if isinstance(error, UpstreamError) and error.upstream_status is not None:
        return error.upstream_status in RETRYABLE_STATUSES or error.upstream_status >= 500
    return error.kind in RETRYABLE_KINDS


def unhealthy(error: SwitchyardError) -> bool:
    """Does this error count against the deployment's circuit breaker?"""
    if isinstance(error, UpstreamError) and error.upstream_status in UNHEALTHY_NOT_RETRYABLE:
        return True
    return retryable(error)


def retry_after_seconds(error: SwitchyardError) -> float | None:
    """The upstream's ``Retry-After`` in seconds (delta-seconds form; an HTTP date is ignored)."""
    if error.retry_after is None:
        return None
    try:
        seconds = float(error.retry_after)
    except ValueError:
        return None
    return seconds if seconds >= 0 else None


def from_status(status: int, body: bytes, headers: Mapping[str, str]) -> SwitchyardError:
    """An upstream HTTP error as the error our client should see: the client's own
    mistakes stay 4xx, the upstream's become 502/503/504."""
    message = _upstream_message(body)
    if status == 429:
        return UpstreamError(
            ErrorKind.RATE_LIMIT,
            f"Upstream rate limit: {message}",
            upstream_status=status,
            code="rate_limit_exceeded",
            retry_after=headers.get("retry-after"),
        )
    if status in (400, 422):
        return UpstreamError(ErrorKind.INVALID_REQUEST, f"Upstream rejected the request: {message}",
                             upstream_status=status)
    if status == 413:
        return UpstreamError(ErrorKind.REQUEST_TOO_LARGE, f"Upstream: {message}", upstream_status=status)
    if status in (408, 504):
        return UpstreamError(ErrorKind.TIMEOUT, f"Upstream timed out: {message}", upstream_status=status)
    if status in (503, 529):
        return UpstreamError(
            ErrorKind.OVERLOADED, f"Upstream overloaded: {message}", upstream_status=status,
            retry_after=headers.get("retry-after"),
        )
    return UpstreamError(
        ErrorKind.UPSTREAM, f"Upstream error (HTTP {status}): {message}", upstream_status=status,
        code="upstream_error",
    )


def from_exception(exc: Exception) -> SwitchyardError:
    if isinstance(exc, SwitchyardError):
        return exc
    if isinstance(exc, TimeoutError):  # aiohttp's connect and read timeouts are TimeoutErrors
        return UpstreamError(ErrorKind.TIMEOUT, f"Upstream timed out ({type(exc).__name__}).")
    if isinstance(exc, aiohttp.ClientError | OSError):
        return UpstreamError(
            ErrorKind.UPSTREAM, f"Upstream connection failed: {type(exc).__name__}: {exc}",
            code="upstream_error",
        )
    if isinstance(exc, orjson.JSONDecodeError | ValueError | KeyError | TypeError):
        return UpstreamError(
            ErrorKind.UPSTREAM, f"Upstream sent a malformed answer: {exc}", code="upstream_error"
        )
    raise exc
