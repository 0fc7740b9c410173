"""An Anthropic Messages upstream. ``base_url`` is the host, as in the Anthropic
SDK: ``https://api.anthropic.com``."""

from __future__ import annotations

from typing import Any

from switchyard.codecs.anthropic_messages import StreamDecoder, decode_response, encode_request
from switchyard.config import ModelConfig
from switchyard.core.events import Event
from switchyard.core.request import Request
from switchyard.providers.base import Capabilities
from switchyard.providers.http_provider import HttpProvider, JsonEvents
from switchyard.providers.http_upstream import HttpUpstream, make_client

ANTHROPIC_VERSION = "2023-06-01"
NOT_COUNTED = ("max_tokens", "stream", "temperature", "top_p", "top_k", "stop_sequences", "metadata")
NO_COUNT_ENDPOINT = frozenset({404, 405, 501})


class AnthropicProvider(HttpProvider):
    def __init__(self, config: ModelConfig) -> None:
        native = False if config.json_schema is None else config.json_schema
        client = make_client(config)
        base = (config.base_url or "https://api.anthropic.com").rstrip("/")
        headers = {"anthropic-version": ANTHROPIC_VERSION, **config.headers}
        if config.api_key:
            headers["x-api-key"] = config.api_key
        super().__init__(config, client, HttpUpstream(client, f"{base}/v1/messages", headers),
                         Capabilities(json_schema=native, vision=True))
        self._count = HttpUpstream(client, f"{base}/v1/messages/count_tokens", headers)

    def encode(self, request: Request) -> dict[str, Any]:
        body = encode_request(request, model=self.config.upstream_model)
        if request.stream:
            body["stream"] = True
        else:
            body.pop("stream", None)
        return body

    def decode(self, body: Any) -> list[Event]:
        return decode_response(body)

    def stream_decoder(self) -> JsonEvents:
        return JsonEvents(StreamDecoder(), with_name=True)

    async def count_tokens(self, request: Request) -> int:
        """The upstream's count; an estimate when it has no count endpoint (servers that
        speak the Messages API without ``/v1/messages/count_tokens``)."""
        body = encode_request(request, model=self.config.upstream_model)
        for key in NOT_COUNTED:
            body.pop(key, None)
        answer = await self._count.post_json(body, absent=NO_COUNT_ENDPOINT)
        if answer is None:
            return await super().count_tokens(request)
        return int(answer["input_tokens"])
