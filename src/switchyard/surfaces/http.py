"""Request bodies in, JSON and SSE out: the plumbing every surface shares."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from switchyard.core.errors import ErrorKind, SwitchyardError, invalid
from switchyard.surfaces.json_depth import check_depth


class JSONResponse(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


async def read_body(request: Request, max_bytes: int) -> bytes:
    """The whole body, read with a size limit (413 past it)."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > max_bytes:
        raise _too_large(max_bytes)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_bytes:
            raise _too_large(max_bytes)
        chunks.append(chunk)
    return b"".join(chunks)


async def read_json(request: Request, max_bytes: int, *, allow_empty: bool = False) -> dict[str, Any]:
    """The body as a JSON object, read with a size limit (413 past it); with
    ``allow_empty`` an empty body reads as ``{}``."""
    raw = await read_body(request, max_bytes)
    if allow_empty and not raw.strip():
        return {}
    if not raw.strip():
        raise invalid("The request body is empty; expected a JSON object.", None)
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise invalid(f"The request body is not valid JSON: {exc}", None) from exc
    if not isinstance(body, dict):
        raise invalid("The request body must be a JSON object.", None)
    check_depth(body, raw)
    return body


def _too_large(max_bytes: int) -> SwitchyardError:
    return SwitchyardError(
        ErrorKind.REQUEST_TOO_LARGE,
        f"The request body exceeds the limit of {max_bytes} bytes.",
        code="request_too_large",
    )


def sse_frame(data: Any, event: str | None = None) -> bytes:
    payload = data if isinstance(data, bytes) else orjson.dumps(data)
    if event is None:
        return b"data: " + payload + b"\n\n"
    return b"event: " + event.encode() + b"\ndata: " + payload + b"\n\n"


def sse_response(frames: AsyncIterator[bytes]) -> StreamingResponse:
    return StreamingResponse(
        frames,
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


def error_headers(error: SwitchyardError) -> dict[str, str]:
    return {"Retry-After": error.retry_after} if error.retry_after else {}


ErrorRenderer = Callable[[SwitchyardError], Response]
