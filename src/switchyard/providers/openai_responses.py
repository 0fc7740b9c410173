"""An upstream that speaks the OpenAI Responses API (OpenAI itself, or servers
that offer /v1/responses). Used statelessly: Switchyard keeps the state.
``base_url`` includes the version prefix: ``https://api.openai.com/v1``."""

from __future__ import annotations

from typing import Any

from switchyard.codecs.responses_upstream import EventDecoder, decode_response, encode_request
from switchyard.config import ModelConfig
from switchyard.core.events import Event
from switchyard.core.request import Request
from switchyard.providers.base import Capabilities, native, translated, unsupported
from switchyard.providers.http_provider import HttpProvider, JsonEvents
from switchyard.providers.http_upstream import bearer_endpoint

PARAMETERS = {
    "temperature": native(), "top_p": native(),
    "top_k": unsupported("the Responses API has no top_k"),
    "max_output_tokens": native(),
    "stop": unsupported("the Responses API has no stop sequences"),
    "seed": unsupported("the Responses API takes no seed"),
    "n": unsupported("the Responses API generates one output per request"),
    "logprobs": translated("top_logprobs and include: ['message.output_text.logprobs']"),
    "presence_penalty": unsupported("OpenAI's Responses API has no presence_penalty"),
    "frequency_penalty": unsupported("OpenAI's Responses API has no frequency_penalty"),
    "logit_bias": unsupported("the Responses API has no logit_bias"),
    "parallel_tool_calls": native(),
    "reasoning": translated("reasoning.effort (an Anthropic thinking budget: the nearest effort)"),
    "service_tier": native(), "prompt_cache_key": native(),
    "verbosity": translated("text.verbosity"),
    "user": translated("safety_identifier"),
    "prediction": unsupported("the Responses API has no predicted outputs"),
    "audio": unsupported("audio output is not relayed"),
    "anthropic_tools": unsupported("Anthropic server tools run only on Anthropic's API"),
    "openai_tools": unsupported("hosted tools are not relayed to the upstream"),
    "openai_options": native("sent as given"),
    "store": unsupported("the upstream is used statelessly and Switchyard keeps no chat completions"),
    "unavailable": unsupported("not available on this server"),
    "anthropic_options": unsupported("an Anthropic-only option"),
    "anthropic_beta": unsupported("an Anthropic beta option"),
}


class OpenAIResponsesProvider(HttpProvider):
    def __init__(self, config: ModelConfig) -> None:
        enforces = True if config.json_schema is None else config.json_schema
        client, upstream = bearer_endpoint(config, "/responses")
        super().__init__(config, client, upstream, Capabilities(json_schema=enforces, vision=True,
                                                              parameters=PARAMETERS))

    def encode(self, request: Request) -> dict[str, Any]:
        return encode_request(request, model=self.config.upstream_model)

    def decode(self, body: Any) -> list[Event]:
        return decode_response(body)

    def stream_decoder(self) -> JsonEvents:
        return JsonEvents(EventDecoder(), with_name=True)
