"""Every row of docs/parameters.md against the live server: a meaningful value of each
parameter, sent on a client surface to each backend kind, either reaches the scripted
upstream as the backend's own field (or honoured by the embedded model), or the client
gets a 400 in the surface's error shape naming the field it sent. Neutral values pass
everywhere; models with ``drop_params`` drop what they cannot honour, and log it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import anthropic
import openai
import pytest

from tests.conftest import LOCAL, VIA_ANTHROPIC, VIA_OPENAI, VIA_RESPONSES
from tests.e2e.raw import post
from tests.fakes import anthropic_wire as aw
from tests.fakes import openai_wire as ow
from tests.fakes import responses_wire as rw
from tests.fakes.upstream import FakeUpstream
from tests.server import MASTER_KEY, LiveServer

BACKENDS = {"openai": VIA_OPENAI, "responses": VIA_RESPONSES, "anthropic": VIA_ANTHROPIC, "local": LOCAL}
TOOL = {"type": "function", "function": {"name": "get_weather", "parameters": {
    "type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}
ANTHROPIC_TOOL = {"name": "get_weather", "input_schema": TOOL["function"]["parameters"]}


@dataclass(frozen=True)
class Sent:
    """The upstream body holds ``value`` at the dotted ``path`` (``has``: in the list there)."""

    path: str
    value: Any
    has: bool = False


@dataclass(frozen=True)
class Refused:
    param: str


OK = Sent("", None)  # the embedded model: a valid answer is the check
PENALTY_REFUSED = {"responses": Refused("presence_penalty"), "anthropic": Refused("presence_penalty")}

# (id, surface, fields, {backend: expectation})
ROWS: list[tuple[str, str, dict[str, Any], dict[str, Sent | Refused]]] = [
    ("temperature", "chat", {"temperature": 0.3}, {
        "openai": Sent("temperature", 0.3), "responses": Sent("temperature", 0.3),
        "anthropic": Sent("temperature", 0.3), "local": OK}),
    ("top_p", "chat", {"top_p": 0.5}, {
        "openai": Sent("top_p", 0.5), "responses": Sent("top_p", 0.5), "anthropic": Sent("top_p", 0.5),
        "local": OK}),
    ("top_k", "messages", {"top_k": 5}, {
        "openai": Refused("top_k"), "responses": Refused("top_k"), "anthropic": Sent("top_k", 5), "local": OK}),
    ("max_output_tokens", "chat", {"max_completion_tokens": 9}, {
        "openai": Sent("max_tokens", 9), "responses": Sent("max_output_tokens", 9),
        "anthropic": Sent("max_tokens", 9), "local": OK}),
    ("stop", "chat", {"stop": ["END"]}, {
        "openai": Sent("stop", ["END"]), "responses": Refused("stop"),
        "anthropic": Sent("stop_sequences", ["END"]), "local": OK}),
    ("stop_sequences", "messages", {"stop_sequences": ["END"]}, {
        "openai": Sent("stop", ["END"]), "responses": Refused("stop_sequences"),
        "anthropic": Sent("stop_sequences", ["END"]), "local": OK}),
    ("seed", "chat", {"seed": 7}, {
        "openai": Sent("seed", 7), "responses": Refused("seed"), "anthropic": Refused("seed"), "local": OK}),
    ("n", "chat", {"n": 2}, {
        "openai": Sent("n", 2), "responses": Refused("n"), "anthropic": Refused("n"), "local": OK}),
    ("logprobs", "chat", {"logprobs": True, "top_logprobs": 2}, {
        "openai": Sent("top_logprobs", 2), "responses": Sent("include", "message.output_text.logprobs", has=True),
        "anthropic": Refused("logprobs"), "local": OK}),
    ("completions_logprobs", "completions", {"logprobs": 2}, {
        "openai": Sent("logprobs", True), "responses": Sent("top_logprobs", 2),
        "anthropic": Refused("logprobs"), "local": OK}),
    ("include_logprobs", "responses", {"include": ["message.output_text.logprobs"]}, {
        "openai": Sent("logprobs", True), "responses": Sent("include", "message.output_text.logprobs", has=True),
        "anthropic": Refused("include"), "local": OK}),
    ("presence_penalty", "chat", {"presence_penalty": 0.5}, {
        "openai": Sent("presence_penalty", 0.5), **PENALTY_REFUSED, "local": OK}),
    ("responses_presence_penalty", "responses", {"presence_penalty": 0.5}, {
        "openai": Sent("presence_penalty", 0.5), **PENALTY_REFUSED, "local": OK}),
    ("frequency_penalty", "completions", {"frequency_penalty": 0.5}, {
        "openai": Sent("frequency_penalty", 0.5), "responses": Refused("frequency_penalty"),
        "anthropic": Refused("frequency_penalty"), "local": OK}),
    ("logit_bias", "chat", {"logit_bias": {"15": -100}}, {
        "openai": Sent("logit_bias", {"15": -100}), "responses": Refused("logit_bias"),
        "anthropic": Refused("logit_bias"), "local": OK}),
    ("completions_logit_bias", "completions", {"logit_bias": {"15": 5}}, {
        "openai": Sent("logit_bias", {"15": 5}), "responses": Refused("logit_bias"),
        "anthropic": Refused("logit_bias"), "local": OK}),
    ("parallel_tool_calls", "chat", {"parallel_tool_calls": False, "tools": [TOOL]}, {
        "openai": Sent("parallel_tool_calls", False), "responses": Sent("parallel_tool_calls", False),
        "anthropic": Sent("tool_choice.disable_parallel_tool_use", True), "local": OK}),
    ("disable_parallel_tool_use", "messages",
     {"tools": [ANTHROPIC_TOOL], "tool_choice": {"type": "auto", "disable_parallel_tool_use": True}}, {
        "openai": Sent("parallel_tool_calls", False), "responses": Sent("parallel_tool_calls", False),
        "anthropic": Sent("tool_choice.disable_parallel_tool_use", True), "local": OK}),
    ("reasoning_effort", "chat", {"reasoning_effort": "high"}, {
        "openai": Sent("reasoning_effort", "high"), "responses": Sent("reasoning.effort", "high"),
        "anthropic": Sent("thinking.type", "enabled"), "local": Refused("reasoning_effort")}),
    ("reasoning.effort", "responses", {"reasoning": {"effort": "low"}}, {
        "openai": Sent("reasoning_effort", "low"), "responses": Sent("reasoning.effort", "low"),
        "anthropic": Sent("thinking.budget_tokens", 1024), "local": Refused("reasoning.effort")}),
    ("thinking", "messages", {"thinking": {"type": "enabled", "budget_tokens": 2048}}, {
        "openai": Sent("reasoning_effort", "low"), "responses": Sent("reasoning.effort", "low"),
        "anthropic": Sent("thinking.budget_tokens", 2048), "local": Refused("thinking")}),
    ("service_tier_flex", "chat", {"service_tier": "flex"}, {
        "openai": Sent("service_tier", "flex"), "responses": Sent("service_tier", "flex"),
        "anthropic": Refused("service_tier"), "local": Refused("service_tier")}),
    ("service_tier_default", "responses", {"service_tier": "default"}, {
        "openai": Sent("service_tier", "default"), "responses": Sent("service_tier", "default"),
        "anthropic": Sent("service_tier", "standard_only"), "local": OK}),
    ("service_tier_standard_only", "messages", {"service_tier": "standard_only"}, {
        "openai": Sent("service_tier", "default"), "responses": Sent("service_tier", "default"),
        "anthropic": Sent("service_tier", "standard_only"), "local": OK}),
    ("prompt_cache_key", "responses", {"prompt_cache_key": "conv-1"}, {
        "openai": Sent("prompt_cache_key", "conv-1"), "responses": Sent("prompt_cache_key", "conv-1"),
        "anthropic": Sent("cache_control", {"type": "ephemeral"}), "local": OK}),
    ("verbosity", "chat", {"verbosity": "low"}, {
        "openai": Sent("verbosity", "low"), "responses": Sent("text.verbosity", "low"),
        "anthropic": Refused("verbosity"), "local": Refused("verbosity")}),
    ("text.verbosity", "responses", {"text": {"verbosity": "high"}}, {
        "openai": Sent("verbosity", "high"), "responses": Sent("text.verbosity", "high"),
        "anthropic": Refused("text.verbosity"), "local": Refused("text.verbosity")}),
    ("user", "chat", {"user": "u-1"}, {
        "openai": Sent("user", "u-1"), "responses": Sent("safety_identifier", "u-1"),
        "anthropic": Sent("metadata.user_id", "u-1"), "local": OK}),
    ("safety_identifier", "responses", {"safety_identifier": "s-1"}, {
        "openai": Sent("user", "s-1"), "responses": Sent("safety_identifier", "s-1"),
        "anthropic": Sent("metadata.user_id", "s-1"), "local": OK}),
    ("metadata.user_id", "messages", {"metadata": {"user_id": "m-1"}}, {
        "openai": Sent("user", "m-1"), "responses": Sent("safety_identifier", "m-1"),
        "anthropic": Sent("metadata.user_id", "m-1"), "local": OK}),
    ("prediction", "chat", {"prediction": {"type": "content", "content": "Hello"}}, {
        "openai": Sent("prediction", {"type": "content", "content": "Hello"}), "responses": Refused("prediction"),
        "anthropic": Refused("prediction"), "local": Refused("prediction")}),
    ("audio", "chat", {"modalities": ["text", "audio"], "audio": {"voice": "alloy", "format": "wav"}}, {
        backend: Refused("audio") for backend in BACKENDS}),
    ("modalities", "chat", {"modalities": ["text", "audio"]}, {
        backend: Refused("modalities") for backend in BACKENDS}),
    ("web_search_options", "chat", {"web_search_options": {}}, {
        backend: Refused("web_search_options") for backend in BACKENDS}),
    ("web_search_tool", "responses", {"tools": [{"type": "function", "name": "f"}, {"type": "web_search"}]}, {
        backend: Refused("tools[1]") for backend in BACKENDS}),
    ("tool_search_tool", "responses", {"tools": [{"type": "tool_search"}]}, {
        backend: Refused("tools[0]") for backend in BACKENDS}),
    ("anthropic_server_tool", "messages",
     {"tools": [ANTHROPIC_TOOL, {"type": "web_search_20250305", "name": "web_search"}]}, {
        "openai": Refused("tools[1]"), "responses": Refused("tools[1]"),
        "anthropic": Sent("tools", {"type": "web_search_20250305", "name": "web_search"}, has=True),
        "local": Refused("tools[1]")}),
    ("prompt_cache_retention", "chat", {"prompt_cache_retention": "24h"}, {
        "openai": Sent("prompt_cache_retention", "24h"), "responses": Sent("prompt_cache_retention", "24h"),
        "anthropic": Refused("prompt_cache_retention"), "local": Refused("prompt_cache_retention")}),
    ("moderation", "responses", {"moderation": {"model": "omni-moderation-latest"}}, {
        "openai": Sent("moderation", {"model": "omni-moderation-latest"}),
        "responses": Sent("moderation", {"model": "omni-moderation-latest"}),
        "anthropic": Refused("moderation"), "local": Refused("moderation")}),
    ("chat_store", "chat", {"store": True}, {
        "openai": Sent("store", True), "responses": Refused("store"), "anthropic": Refused("store"),
        "local": Refused("store")}),
    ("context_management_responses", "responses",
     {"context_management": [{"type": "compaction", "compact_threshold": 1000}]}, {
        backend: Refused("context_management") for backend in BACKENDS}),
    ("inference_geo", "messages", {"inference_geo": "us"}, {
        "openai": Refused("inference_geo"), "responses": Refused("inference_geo"),
        "anthropic": Sent("inference_geo", "us"), "local": Refused("inference_geo")}),
    ("speed", "messages", {"speed": "fast"}, {backend: Refused("speed") for backend in BACKENDS}),
    ("context_management", "messages",
     {"context_management": {"edits": [{"type": "clear_tool_uses_20250919"}]}}, {
        backend: Refused("context_management") for backend in BACKENDS}),
]

# Neutral values ask for nothing: accepted on every backend, whatever it supports.
NEUTRAL: list[tuple[str, dict[str, Any]]] = [
    ("chat", {"presence_penalty": 0, "frequency_penalty": 0.0, "logit_bias": {"15": 0}, "n": 1,
              "service_tier": "auto", "verbosity": "medium", "parallel_tool_calls": True,
              "reasoning_effort": "none", "modalities": ["text"], "logprobs": False, "store": False,
              "prompt_cache_retention": "in_memory"}),
    ("responses", {"text": {"verbosity": "medium"}, "service_tier": "auto", "reasoning": {"effort": "none"},
                   "presence_penalty": 0}),
    ("messages", {"service_tier": "auto", "thinking": {"type": "adaptive"}, "speed": "standard",
                  "context_management": {"edits": [{"type": "clear_thinking_20251015", "keep": "all"}]}}),
]


def _script(backend: str, fake_openai: FakeUpstream, fake_anthropic: FakeUpstream) -> None:
    if backend == "openai":
        fake_openai.script(ow.completion("ok"))
    elif backend == "responses":
        fake_openai.script(rw.reply(rw.message("ok")))
    elif backend == "anthropic":
        fake_anthropic.script(aw.message([aw.text("ok")]))


def _call(server: LiveServer, surface: str, model: str, fields: dict[str, Any]) -> Any:
    """One non-streaming call through the official SDK; raises its APIStatusError."""
    short = model == LOCAL  # keep the embedded model's answers short
    if surface == "messages":
        client = anthropic.Anthropic(base_url=server.url, api_key=MASTER_KEY, max_retries=0, timeout=120,
                                     _strict_response_validation=True)
        fields = dict(fields)
        tools = fields.pop("tools", anthropic.NOT_GIVEN)
        return client.messages.create(model=model, max_tokens=4 if short else 4096, tools=tools,
                                      messages=[{"role": "user", "content": "Say ok"}], extra_body=fields)
    client_ = openai.OpenAI(base_url=server.url + "/v1", api_key=MASTER_KEY, max_retries=0, timeout=120,
                            _strict_response_validation=True)
    if surface == "chat":
        limit = {} if not short or "max_completion_tokens" in fields else {"max_completion_tokens": 4}
        return client_.chat.completions.create(model=model, messages=[{"role": "user", "content": "Say ok"}],
                                               extra_body={**limit, **fields})
    if surface == "completions":
        return client_.completions.create(model=model, prompt="Say ok", max_tokens=4, extra_body=fields)
    return client_.responses.create(model=model, input="Say ok", max_output_tokens=16 if short else 2048,
                                    store=False, extra_body=fields)


def _at(body: Any, path: str) -> Any:
    for key in path.split("."):
        assert isinstance(body, dict) and key in body, f"upstream body has no '{path}': {body}"
        body = body[key]
    return body


CASES = [pytest.param(surface, fields, backend, expected, id=f"{row}-{backend}")
         for row, surface, fields, table in ROWS for backend, expected in table.items()]


@pytest.mark.parametrize(("surface", "fields", "backend", "expected"), CASES)
def test_parameter_row(server: LiveServer, fake_openai: FakeUpstream, fake_anthropic: FakeUpstream,
                       surface: str, fields: dict[str, Any], backend: str, expected: Sent | Refused) -> None:
    fake = fake_anthropic if backend == "anthropic" else fake_openai
    if isinstance(expected, Refused):
        _expect_refusal(server, surface, BACKENDS[backend], fields, expected.param)
        assert fake.received == [], "a refused request reached the upstream"
        return
    _script(backend, fake_openai, fake_anthropic)
    answer = _call(server, surface, BACKENDS[backend], fields)
    assert answer.id
    if backend == "local":
        return
    assert len(fake.received) == 1
    value = _at(fake.last.body, expected.path)
    if expected.has:
        assert expected.value in value
    else:
        assert value == expected.value


def _expect_refusal(server: LiveServer, surface: str, model: str, fields: dict[str, Any], param: str) -> None:
    if surface == "messages":
        with pytest.raises(anthropic.BadRequestError) as caught:
            _call(server, surface, model, fields)
        body = caught.value.body
        assert isinstance(body, dict) and body["type"] == "error", body
        assert body["error"]["type"] == "invalid_request_error"
        assert f"'{param}'" in body["error"]["message"], body
        return
    with pytest.raises(openai.BadRequestError) as err:
        _call(server, surface, model, fields)
    assert err.value.status_code == 400
    assert err.value.param == param, err.value.body
    assert err.value.code == "unsupported_parameter"
    assert f"'{param}'" in err.value.message


@pytest.mark.parametrize(("surface", "fields"), NEUTRAL, ids=[s for s, _ in NEUTRAL])
@pytest.mark.parametrize("backend", ["responses", "anthropic", "local"])
def test_neutral_values_pass_everywhere(server: LiveServer, fake_openai: FakeUpstream,
                                        fake_anthropic: FakeUpstream, surface: str, fields: dict[str, Any],
                                        backend: str) -> None:
    _script(backend, fake_openai, fake_anthropic)
    assert _call(server, surface, BACKENDS[backend], fields).id
    if backend != "local":
        sent = (fake_anthropic if backend == "anthropic" else fake_openai).last.body
        for key in ("presence_penalty", "frequency_penalty", "logit_bias", "context_management", "speed",
                    "prompt_cache_retention"):
            assert key not in sent


def test_a_refusal_stores_nothing(server: LiveServer, fake_anthropic: FakeUpstream) -> None:
    """A refused Responses request (stored by default) leaves no response behind."""
    answer = post(server, "/v1/responses", {"model": VIA_ANTHROPIC, "input": "hi", "presence_penalty": 1,
                                            "background": True})
    assert answer.status_code == 400
    assert answer.json()["error"]["param"] == "presence_penalty"
    assert fake_anthropic.received == []


def test_drop_params_drops_and_logs(lenient_server: LiveServer, fake_openai: FakeUpstream,
                                    fake_anthropic: FakeUpstream) -> None:
    fake_anthropic.script(aw.message([aw.text("ok")]))
    answer = _call(lenient_server, "chat", VIA_ANTHROPIC,
                   {"presence_penalty": 0.5, "seed": 3, "logit_bias": {"15": 1}, "temperature": 0.2})
    assert answer.choices[0].message.content == "ok"
    sent = fake_anthropic.last.body
    assert sent["temperature"] == 0.2
    assert not {"presence_penalty", "seed", "logit_bias"} & sent.keys()
    log = lenient_server.log_path.read_text()
    for field in ("presence_penalty", "seed", "logit_bias"):
        assert f"dropping '{field}'" in log


def test_drop_params_drops_hosted_tools_on_responses(lenient_server: LiveServer, fake_openai: FakeUpstream) -> None:
    fake_openai.script(rw.reply(rw.message("ok")))
    answer = _call(lenient_server, "responses", VIA_RESPONSES,
                   {"tools": [{"type": "web_search"}, {"type": "function", "name": "f"}]})
    assert answer.output_text == "ok"
    assert [t.type for t in answer.tools] == ["web_search", "function"]  # the echo keeps what was sent
    assert [t["name"] for t in fake_openai.last.body["tools"]] == ["f"]
    assert "dropping 'tools[0]'" in lenient_server.log_path.read_text()


def test_drop_params_translates_what_it_can(lenient_server: LiveServer, fake_anthropic: FakeUpstream) -> None:
    """Dropping is only for what cannot be honoured: supported values still go through."""
    fake_anthropic.script(aw.message([aw.text("ok")]))
    _call(lenient_server, "chat", VIA_ANTHROPIC, {"service_tier": "default", "verbosity": "low", "user": "u"})
    sent = fake_anthropic.last.body
    assert sent["service_tier"] == "standard_only" and sent["metadata"] == {"user_id": "u"}
    assert "verbosity" not in sent


@pytest.fixture(scope="module")
def local_vocab(model_path: Any) -> Any:
    import llama_cpp

    return llama_cpp.Llama(str(model_path), vocab_only=True, verbose=False)


def test_logit_bias_steers_the_embedded_model(oai: openai.OpenAI, local_vocab: Any) -> None:
    [token] = local_vocab.tokenize(b"banana", add_bos=False, special=False)[:1]
    reply = oai.chat.completions.create(model=LOCAL, messages=[{"role": "user", "content": "Say hello."}],
                                        max_completion_tokens=3, temperature=0,
                                        logit_bias={str(token): 100})
    piece = local_vocab.detokenize([token]).decode()
    assert reply.choices[0].message.content == piece * 3


def test_logit_bias_outside_the_vocabulary_is_refused(oai: openai.OpenAI, local_vocab: Any) -> None:
    with pytest.raises(openai.BadRequestError) as err:
        oai.completions.create(model=LOCAL, prompt="hi", max_tokens=2,
                               logit_bias={str(local_vocab.n_vocab()): 5})
    assert err.value.param == "logit_bias"


def test_parallel_tool_calls_false_gives_one_call_on_the_embedded_model(oai: openai.OpenAI, local_vocab: Any) -> None:
    """The 0.5B model ends its turn after one call; with its end-of-turn token banned it
    goes on (more calls, then text) unless ``parallel_tool_calls`` is false."""
    ask = {"model": LOCAL, "tools": [TOOL], "temperature": 0, "max_completion_tokens": 100,
           "messages": [{"role": "user", "content": "What is the weather in Paris and in Rome?"}],
           "logit_bias": {str(local_vocab.token_eos()): -100}}
    free = oai.chat.completions.create(**ask)
    assert len(free.choices[0].message.tool_calls or []) >= 2
    assert free.usage.completion_tokens == 100
    one = oai.chat.completions.create(**ask, parallel_tool_calls=False)
    calls = one.choices[0].message.tool_calls or []
    assert [c.function.name for c in calls] == ["get_weather"]
    assert one.choices[0].finish_reason == "tool_calls"
    assert one.usage.completion_tokens < 100
    assert calls[0].function.arguments == free.choices[0].message.tool_calls[0].function.arguments
