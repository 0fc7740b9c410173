"""An Anthropic Messages upstream. ``base_url`` is the host, as in the Anthropic
SDK: ``https://api.anthropic.com``."""

from __future__ import annotations

from collections.abc import AsyncIterator

import orjson

from switchyard.codecs.anthropic_messages import StreamDecoder, decode_response, encode_request
from switchyard.config import ModelConfig
from switchyard.core.events import Event
from switchyard.core.request import Request
from switchyard.providers.base import Capabilities
from switchyard.providers.http_upstream import HttpUpstream, make_client

ANTHROPIC_VERSION = "2023-06-01"


class _SSEEvents:
    def __init__(self) -> None:
        self._decoder = StreamDecoder()

    def feed_sse(self, event: str, data: bytes) -> list[Event]:
        if not data.strip():
            return []
        return self._decoder.feed(event, orjson.loads(data))

    def close(self) -> list[Event]:
        return self._decoder.close()


class AnthropicProvider:
    def __init__(self, config: ModelConfig) -> None:
        self.config = config
        native = False if config.json_schema is None else config.json_schema
        self.capabilities = Capabilities(json_schema=native, vision=True)
        self._client = make_client(config)
        base = (config.base_url or "https://api.anthropic.com").rstrip("/")
        headers = {"anthropic-version": ANTHROPIC_VERSION, **config.headers}
        if config.api_key:
            headers["x-api-key"] = config.api_key
        self._upstream = HttpUpstream(self._client, f"{base}/v1/messages", headers)
        self._count = HttpUpstream(self._client, f"{base}/v1/messages/count_tokens", headers)

    async def generate(self, request: Request) -> AsyncIterator[Event]:
        body = encode_request(request, model=self.config.upstream_model)
        if request.stream:
            body["stream"] = True
            async for event in self._upstream.stream(body, _SSEEvents):
                yield event
            return
        body.pop("stream", None)
        for event in decode_response(await self._upstream.post_json(body)):
            yield event

    async def count_tokens(self, request: Request) -> int:
        body = encode_request(request, model=self.config.upstream_model)
        for key in ("max_tokens", "stream", "temperature", "top_p", "top_k", "stop_sequences", "metadata"):
            body.pop(key, None)
        answer = await self._count.post_json(body)
        return int(answer["input_tokens"])

    async def aclose(self) -> None:
        await self._client.aclose()
