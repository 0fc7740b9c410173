"""An Anthropic Messages upstream. ``base_url`` is the host, as in the Anthropic
SDK: ``https://api.anthropic.com``."""

from __future__ import annotations

from typing import Any

from switchyard.codecs.anthropic_messages import StreamDecoder, decode_response, encode_request
from switchyard.config import ModelConfig
from switchyard.core.events import Event
from switchyard.core.request import Request
from switchyard.providers.base import Capabilities, native, translated, unsupported
from switchyard.providers.http_provider import HttpProvider, JsonEvents
from switchyard.providers.http_upstream import HttpUpstream, make_client

ANTHROPIC_VERSION = "2023-06-01"
NOT_COUNTED = ("max_tokens", "stream", "temperature", "top_p", "top_k", "stop_sequences", "metadata")
NO_COUNT_ENDPOINT = frozenset({404, 405, 501})
PARAMETERS = {
    "temperature": translated("temperature clamped to Anthropic's 0..1; not sent while thinking is on"),
    "top_p": native("not sent while thinking is on"),
    "top_k": native("not sent while thinking is on"),
    "max_output_tokens": translated("max_tokens"),
    "stop": translated("stop_sequences"),
    "seed": unsupported("Anthropic's API takes no seed"),
    "n": unsupported("Anthropic's API generates one message per request"),
    "logprobs": unsupported("Anthropic's API returns no log-probabilities"),
    "presence_penalty": unsupported("Anthropic's API has no presence_penalty"),
    "frequency_penalty": unsupported("Anthropic's API has no frequency_penalty"),
    "logit_bias": unsupported("Anthropic's API has no logit_bias"),
    "parallel_tool_calls": translated("tool_choice.disable_parallel_tool_use: true"),
    "reasoning": translated("thinking with budget_tokens (effort low 1024, medium 4096, high 16384, "
                            "xhigh/max 32768)"),
    "service_tier": translated("'default' becomes 'standard_only'", frozenset({"default"})),
    "prompt_cache_key": translated("top-level cache_control {type: ephemeral} (automatic prompt caching)"),
    "verbosity": unsupported("Anthropic's API has no verbosity setting"),
    "user": translated("metadata.user_id"),
    "prediction": unsupported("Anthropic's API has no predicted outputs"),
    "audio": unsupported("Anthropic's API has no audio output"),
    "anthropic_tools": native("sent as given"),
    "openai_tools": unsupported("OpenAI hosted tools run only on OpenAI's API"),
    "openai_options": unsupported("an OpenAI-only option"),
    "store": unsupported("Switchyard keeps no chat completions"),
    "unavailable": unsupported("not available on this server"),
    "anthropic_options": native("sent as given"),
    "anthropic_beta": unsupported("beta options need an anthropic-beta header, which is not relayed"),
}


class AnthropicProvider(HttpProvider):
    def __init__(self, config: ModelConfig) -> None:
        enforces = False if config.json_schema is None else config.json_schema
        client = make_client(config)
        base = (config.base_url or "https://api.anthropic.com").rstrip("/")
        headers = {"anthropic-version": ANTHROPIC_VERSION, **config.headers}
        if config.api_key:
            headers["x-api-key"] = config.api_key
        super().__init__(config, client, HttpUpstream(client, f"{base}/v1/messages", headers),
                         Capabilities(json_schema=enforces, vision=True, parameters=PARAMETERS))
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
