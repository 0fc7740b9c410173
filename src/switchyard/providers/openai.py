"""Any OpenAI-compatible Chat Completions upstream (OpenAI, DeepSeek, vLLM, Ollama...).

``base_url`` includes the version prefix, as in the OpenAI SDK: ``https://api.openai.com/v1``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import orjson

from switchyard.codecs.openai_chat import ChunkDecoder, decode_response, encode_request
from switchyard.config import ModelConfig
from switchyard.core.events import Event
from switchyard.core.request import Request
from switchyard.providers.base import Capabilities
from switchyard.providers.http_upstream import bearer_endpoint
from switchyard.providers.token_count import estimate_tokens


class _SSEChunks:
    def __init__(self) -> None:
        self._decoder = ChunkDecoder()

    def feed_sse(self, event: str, data: bytes) -> list[Event]:
        data = data.strip()
        if not data or data == b"[DONE]":
            return []
        return self._decoder.feed(orjson.loads(data))

    def close(self) -> list[Event]:
        return self._decoder.close()


class OpenAIProvider:
    def __init__(self, config: ModelConfig) -> None:
        self.config = config
        native = True if config.json_schema is None else config.json_schema
        self.capabilities = Capabilities(json_schema=native, n=True, seed=True, logprobs=True, vision=True)
        self._client, self._upstream = bearer_endpoint(config, "/chat/completions")

    async def generate(self, request: Request) -> AsyncIterator[Event]:
        body = encode_request(request, model=self.config.upstream_model)
        if request.stream:
            async for event in self._upstream.stream(body, _SSEChunks):
                yield event
            return
        for event in decode_response(await self._upstream.post_json(body)):
            yield event

    async def count_tokens(self, request: Request) -> int:
        return estimate_tokens(request)

    async def aclose(self) -> None:
        await self._client.aclose()
