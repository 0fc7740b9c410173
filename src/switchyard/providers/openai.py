"""Any OpenAI-compatible Chat Completions upstream (OpenAI, DeepSeek, vLLM, Ollama...).

``base_url`` includes the version prefix, as in the OpenAI SDK: ``https://api.openai.com/v1``.
"""

from __future__ import annotations

from typing import Any

from switchyard.codecs.openai_chat import ChunkDecoder, decode_response, encode_request
from switchyard.config import ModelConfig
from switchyard.core.events import Event
from switchyard.core.request import Request
from switchyard.providers.base import Capabilities
from switchyard.providers.http_provider import HttpProvider, JsonEvents
from switchyard.providers.http_upstream import bearer_endpoint


class OpenAIProvider(HttpProvider):
    def __init__(self, config: ModelConfig) -> None:
        native = True if config.json_schema is None else config.json_schema
        client, upstream = bearer_endpoint(config, "/chat/completions")
        super().__init__(config, client, upstream,
                         Capabilities(json_schema=native, n=True, seed=True, logprobs=True, vision=True))

    def encode(self, request: Request) -> dict[str, Any]:
        return encode_request(request, model=self.config.upstream_model)

    def decode(self, body: Any) -> list[Event]:
        return decode_response(body)

    def stream_decoder(self) -> JsonEvents:
        return JsonEvents(ChunkDecoder(), with_name=False)
