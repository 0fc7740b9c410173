"""Any OpenAI-compatible Chat Completions upstream (OpenAI, DeepSeek, vLLM, Ollama...).

``base_url`` includes the version prefix, as in the OpenAI SDK: ``https://api.openai.com/v1``.
"""

from __future__ import annotations

from typing import Any

from switchyard.codecs.openai_chat import ChunkDecoder, decode_response, encode_request
from switchyard.config import ModelConfig
from switchyard.core.events import Event
from switchyard.core.request import Request
from switchyard.providers.base import Capabilities, native, translated, unsupported
from switchyard.providers.http_provider import HttpProvider, JsonEvents
from switchyard.providers.http_upstream import bearer_endpoint

PARAMETERS = {
    "temperature": native(), "top_p": native(),
    "top_k": unsupported("OpenAI's Chat Completions API has no top_k"),
    "max_output_tokens": translated("max_tokens"),
    "stop": native(), "seed": native(), "n": native(), "logprobs": native("logprobs, top_logprobs"),
    "presence_penalty": native(), "frequency_penalty": native(), "logit_bias": native(),
    "parallel_tool_calls": native(),
    "reasoning": translated("reasoning_effort (an Anthropic thinking budget: the nearest effort)"),
    "service_tier": native(), "prompt_cache_key": native(), "verbosity": native(),
    "user": native(), "prediction": native(),
    "audio": unsupported("audio output is not relayed"),
    "anthropic_tools": unsupported("Anthropic server tools run only on Anthropic's API"),
    "openai_tools": unsupported("hosted tools are not relayed to a Chat Completions upstream"),
    "openai_options": native("sent as given"),
    "store": native("the upstream stores the completion; Switchyard keeps none"),
    "unavailable": unsupported("not available on this server"),
    "anthropic_options": unsupported("an Anthropic-only option"),
    "anthropic_beta": unsupported("an Anthropic beta option"),
}


class OpenAIProvider(HttpProvider):
    def __init__(self, config: ModelConfig) -> None:
        enforces = True if config.json_schema is None else config.json_schema
        client, upstream = bearer_endpoint(config, "/chat/completions")
        super().__init__(config, client, upstream,
                         Capabilities(json_schema=enforces, vision=True, parameters=PARAMETERS))

    def encode(self, request: Request) -> dict[str, Any]:
        return encode_request(request, model=self.config.upstream_model)

    def decode(self, body: Any) -> list[Event]:
        return decode_response(body)

    def stream_decoder(self) -> JsonEvents:
        return JsonEvents(ChunkDecoder(), with_name=False)
