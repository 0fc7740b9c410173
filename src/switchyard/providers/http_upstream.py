"""What the HTTP upstream providers share: one request, JSON or SSE back,
failures mapped to canonical errors (raised before the first event, a
``Failure`` event after it)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any, Protocol

import httpx
import orjson
from httpx_sse import EventSource

from switchyard.config import ModelConfig
from switchyard.core.events import Event, Failure
from switchyard.providers.upstream_errors import from_exception, from_status


class StreamDecoder(Protocol):
    def feed_sse(self, event: str, data: str) -> list[Event]: ...

    def close(self) -> list[Event]: ...


def make_client(config: ModelConfig) -> httpx.AsyncClient:
    timeout = httpx.Timeout(config.timeout, connect=config.connect_timeout)
    limits = httpx.Limits(max_connections=1000, max_keepalive_connections=200)
    return httpx.AsyncClient(timeout=timeout, limits=limits, http2=False)


class HttpUpstream:
    def __init__(self, client: httpx.AsyncClient, url: str, headers: dict[str, str]) -> None:
        self._client = client
        self._url = url
        self._headers = {"content-type": "application/json", **headers}

    async def post_json(self, body: dict[str, Any]) -> Any:
        try:
            response = await self._client.post(
                self._url, content=orjson.dumps(body), headers=self._headers
            )
        except Exception as exc:
            raise from_exception(exc) from exc
        if response.status_code >= 400:
            raise from_status(response.status_code, response.content, response.headers)
        try:
            return orjson.loads(response.content)
        except orjson.JSONDecodeError as exc:
            raise from_exception(exc) from exc

    async def stream(
        self, body: dict[str, Any], decoder_factory: Callable[[], StreamDecoder]
    ) -> AsyncIterator[Event]:
        request = self._client.build_request(
            "POST", self._url, content=orjson.dumps(body),
            headers={**self._headers, "accept": "text/event-stream"},
        )
        try:
            response = await self._client.send(request, stream=True)
        except Exception as exc:
            raise from_exception(exc) from exc
        try:
            if response.status_code >= 400:
                raise from_status(response.status_code, await response.aread(), response.headers)
            decoder = decoder_factory()
            started = False
            try:
                async for sse in EventSource(response).aiter_sse():
                    for event in decoder.feed_sse(sse.event, sse.data):
                        started = True
                        yield event
                        if isinstance(event, Failure):
                            return
                for event in decoder.close():
                    yield event
            except Exception as exc:
                if not started:  # nothing sent yet: the caller can still answer with a status
                    raise from_exception(exc) from exc
                yield Failure(from_exception(exc))
        finally:
            await response.aclose()
