"""What the HTTP upstream providers share: encode the canonical request, send it,
and decode the answer whole or as an SSE stream of JSON events."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, Protocol

import orjson

from switchyard.config import ModelConfig
from switchyard.core.events import Event
from switchyard.core.request import Request
from switchyard.providers.base import Capabilities
from switchyard.providers.http_upstream import HttpUpstream, UpstreamClient
from switchyard.providers.token_count import estimate_tokens


class EventDecoder(Protocol):
    def close(self) -> list[Event]: ...


class JsonEvents:
    """SSE frames whose data is JSON, fed to a codec's stream decoder; ``with_name``
    passes the SSE event name along (Anthropic, Responses), else only the JSON (Chat)."""

    def __init__(self, decoder: Any, *, with_name: bool) -> None:
        self._decoder = decoder
        self._with_name = with_name

    def feed_sse(self, event: str, data: bytes) -> list[Event]:
        data = data.strip()
        if not data or data == b"[DONE]":
            return []
        payload = orjson.loads(data)
        return self._decoder.feed(event, payload) if self._with_name else self._decoder.feed(payload)

    def close(self) -> list[Event]:
        return self._decoder.close()  # type: ignore[no-any-return]


class HttpProvider:
    """A model behind one upstream endpoint. Subclasses say how to encode a request,
    decode a whole answer, and decode a stream."""

    def __init__(self, config: ModelConfig, client: UpstreamClient, upstream: HttpUpstream,
                 capabilities: Capabilities) -> None:
        self.config = config
        self.capabilities = capabilities
        self._client = client
        self._upstream = upstream

    def encode(self, request: Request) -> dict[str, Any]:
        raise NotImplementedError

    def decode(self, body: Any) -> list[Event]:
        raise NotImplementedError

    def stream_decoder(self) -> JsonEvents:
        raise NotImplementedError

    async def generate(self, request: Request) -> AsyncIterator[Event]:
        body = self.encode(request)
        if request.stream:
            async for event in self._upstream.stream(body, self.stream_decoder):
                yield event
            return
        for event in self.decode(await self._upstream.post_json(body)):
            yield event

    async def count_tokens(self, request: Request) -> int:
        return estimate_tokens(request)

    async def aclose(self) -> None:
        await self._client.aclose()
