"""Raw HTTP against the live server, for checking wire bytes the SDKs hide."""

from __future__ import annotations

from typing import Any

import httpx
import orjson

from tests.server import MASTER_KEY, LiveServer


def post(server: LiveServer, path: str, body: Any, headers: dict[str, str] | None = None,
         key: str | None = MASTER_KEY) -> httpx.Response:
    h = {"content-type": "application/json", **(headers or {})}
    if key is not None:
        h["authorization"] = f"Bearer {key}"
    content = body if isinstance(body, bytes) else orjson.dumps(body)
    return httpx.post(server.url + path, content=content, headers=h, timeout=120)


def sse(server: LiveServer, path: str, body: Any,
        headers: dict[str, str] | None = None) -> list[tuple[str | None, str]]:
    """Every SSE frame of a streamed answer as (event name, data)."""
    h = {"content-type": "application/json", "authorization": f"Bearer {MASTER_KEY}", **(headers or {})}
    frames: list[tuple[str | None, str]] = []
    with httpx.stream("POST", server.url + path, content=orjson.dumps(body), headers=h,
                      timeout=120) as response:
        assert response.status_code == 200, response.read()
        assert response.headers["content-type"].startswith("text/event-stream")
        event: str | None = None
        data: list[str] = []
        for line in response.iter_lines():
            if line.startswith(":"):
                continue
            if not line:
                if data:
                    frames.append((event, "\n".join(data)))
                event, data = None, []
                continue
            field, _, value = line.partition(":")
            value = value.removeprefix(" ")
            if field == "event":
                event = value
            elif field == "data":
                data.append(value)
    return frames
