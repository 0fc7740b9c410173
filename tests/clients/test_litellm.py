"""LiteLLM as a client SDK pointed at Switchyard, once as an OpenAI-compatible
server (``openai/...``) and once as an Anthropic one (``anthropic/...``), over both
vendors' upstreams and the embedded model."""

from __future__ import annotations

import json

import litellm
import pytest
from pydantic import BaseModel

from tests.clients.backends import ALL, UPSTREAMS, Backend, Call, Say, combos
from tests.conftest import VIA_ANTHROPIC, VIA_OPENAI
from tests.server import MASTER_KEY, LiveServer

SURFACES = ["openai", "anthropic"]
WEATHER = {"type": "function", "function": {
    "name": "get_weather", "description": "The weather in a city.",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}


class City(BaseModel):
    name: str
    country: str


def _args(server: LiveServer, surface: str, backend: Backend) -> dict:
    base = server.url + "/v1" if surface == "openai" else server.url
    return {"model": f"{surface}/{backend.model}", "api_base": base, "api_key": MASTER_KEY,
            "max_retries": 0, "timeout": 120, "temperature": 0, "max_tokens": backend.max_tokens}


@pytest.mark.parametrize(("surface", "backend"), combos(SURFACES, ["openai"]), indirect=["backend"])
def test_tool_round_trip(server: LiveServer, backend: Backend, surface: str) -> None:
    backend.script(Call.one("call_t1", "get_weather", {"city": "Paris"}), Say("Sunny in Paris."))
    args = _args(server, surface, backend)
    messages: list[dict] = [{"role": "user", "content": "What is the weather in Paris?"}]
    first = litellm.completion(messages=messages, tools=[WEATHER],
                               tool_choice={"type": "function", "function": {"name": "get_weather"}}, **args)
    message = first.choices[0].message
    calls = message.tool_calls
    assert calls and calls[0].function.name == "get_weather"
    city = json.loads(calls[0].function.arguments)["city"]
    messages += [message.model_dump(exclude_none=True),
                 {"role": "tool", "tool_call_id": calls[0].id, "content": f"It is sunny in {city}."}]
    final = litellm.completion(messages=messages, tools=[WEATHER], tool_choice="none", **args)
    reply = final.choices[0].message
    assert (reply.content or "").strip() and not reply.tool_calls
    if backend.scripted:
        assert city == "Paris"
        assert first.choices[0].finish_reason == "tool_calls"
        assert final.choices[0].message.content == "Sunny in Paris."
        assert backend.tool_results() == ["It is sunny in Paris."]


@pytest.mark.parametrize(("surface", "backend"), [("openai", VIA_OPENAI), ("openai", VIA_ANTHROPIC),
                                                  ("anthropic", VIA_ANTHROPIC)], indirect=["backend"])
def test_reasoning_effort_tool_round_trip(server: LiveServer, backend: Backend, surface: str) -> None:
    """LiteLLM's Anthropic client maps ``reasoning_effort`` to thinking only for models it
    knows, so there it names the upstream by one of Switchyard's aliases for it."""
    backend.script(Call.one("call_t2", "get_weather", {"city": "Rome"}, thinking="Ask the tool."),
                   Say("Sunny in Rome."))
    args = {**_args(server, surface, backend), "max_tokens": 4000, "reasoning_effort": "low"}
    args.pop("temperature")
    if surface == "anthropic":
        args["model"] = "anthropic/claude-haiku-4-5"
    messages: list[dict] = [{"role": "user", "content": "Weather in Rome?"}]
    first = litellm.completion(messages=messages, tools=[WEATHER], **args)
    message = first.choices[0].message
    assert message.tool_calls[0].function.name == "get_weather"
    messages += [message.model_dump(exclude_none=True),
                 {"role": "tool", "tool_call_id": message.tool_calls[0].id, "content": "It is sunny in Rome."}]
    final = litellm.completion(messages=messages, tools=[WEATHER], **args)
    assert final.choices[0].message.content == "Sunny in Rome."
    if backend.model == VIA_ANTHROPIC:
        assert backend.sent()[0]["thinking"]["type"] == "enabled"


@pytest.mark.parametrize("surface", SURFACES)
@pytest.mark.parametrize("backend", ALL, indirect=True)
def test_streaming(server: LiveServer, backend: Backend, surface: str) -> None:
    backend.script(Say("Hello there, streamer."))
    chunks = list(litellm.completion(messages=[{"role": "user", "content": "Say hello."}], stream=True,
                                     **_args(server, surface, backend)))
    texts = [c.choices[0].delta.content for c in chunks if c.choices and c.choices[0].delta.content]
    assert len(texts) >= 2
    if backend.scripted:
        assert "".join(texts) == "Hello there, streamer."
        assert backend.sent()[-1]["stream"] is True


@pytest.mark.parametrize("surface", SURFACES)
@pytest.mark.parametrize("backend", UPSTREAMS, indirect=True)
def test_streamed_tool_call(server: LiveServer, backend: Backend, surface: str) -> None:
    backend.script(Call.one("call_t3", "get_weather", {"city": "Oslo"}))
    chunks = list(litellm.completion(messages=[{"role": "user", "content": "Weather in Oslo?"}], stream=True,
                                     tools=[WEATHER], **_args(server, surface, backend)))
    rebuilt = litellm.stream_chunk_builder(chunks)
    call = rebuilt.choices[0].message.tool_calls[0]
    assert call.function.name == "get_weather" and json.loads(call.function.arguments) == {"city": "Oslo"}


@pytest.mark.parametrize("surface", SURFACES)
@pytest.mark.parametrize("backend", ALL, indirect=True)
def test_structured_output(server: LiveServer, backend: Backend, surface: str) -> None:
    backend.script(Say('{"name": "Paris", "country": "France"}'))
    reply = litellm.completion(messages=[{"role": "user", "content": "The capital of France and its country?"}],
                               response_format=City, **_args(server, surface, backend))
    city = City.model_validate_json(reply.choices[0].message.content)
    if backend.scripted:
        assert city == City(name="Paris", country="France")
