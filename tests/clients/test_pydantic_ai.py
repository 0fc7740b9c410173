"""pydantic-ai agents on Switchyard with its OpenAI Chat, OpenAI Responses and
Anthropic models, over both vendors' upstreams and the embedded model."""

from __future__ import annotations

import anthropic
import openai
import pytest
from pydantic import BaseModel
from pydantic_ai import Agent, RunContext
from pydantic_ai.models import Model
from pydantic_ai.models.anthropic import AnthropicModel
from pydantic_ai.models.openai import OpenAIChatModel, OpenAIResponsesModel
from pydantic_ai.output import NativeOutput
from pydantic_ai.providers.anthropic import AnthropicProvider
from pydantic_ai.providers.openai import OpenAIProvider
from pydantic_ai.tools import ToolDefinition

from tests.clients.backends import ALL, UPSTREAMS, Backend, Call, Say, combos
from tests.conftest import VIA_ANTHROPIC
from tests.server import MASTER_KEY, LiveServer

KINDS = ["chat", "responses", "anthropic"]


def _settings(backend: Backend) -> dict:
    return {"temperature": 0, "max_tokens": backend.max_tokens}


class City(BaseModel):
    name: str
    country: str


def _model(server: LiveServer, kind: str, name: str) -> Model:
    if kind == "anthropic":
        client = anthropic.AsyncAnthropic(base_url=server.url, api_key=MASTER_KEY, max_retries=0, timeout=120)
        return AnthropicModel(name, provider=AnthropicProvider(anthropic_client=client))
    oai = openai.AsyncOpenAI(base_url=server.url + "/v1", api_key=MASTER_KEY, max_retries=0, timeout=120)
    model_class = OpenAIResponsesModel if kind == "responses" else OpenAIChatModel
    return model_class(name, provider=OpenAIProvider(openai_client=oai))


def _weather_agent(model: Model, backend: Backend, asked: list[str]) -> Agent[None, str]:
    agent = Agent(model, instructions="Answer weather questions with the get_weather tool.",
                  model_settings=_settings(backend))

    async def once(_ctx: RunContext[None], tool: ToolDefinition) -> ToolDefinition | None:
        return None if asked else tool  # used once, then the next turn answers in text

    @agent.tool_plain(prepare=once)
    def get_weather(city: str) -> str:
        """The weather in a city."""
        asked.append(city)
        return f"It is sunny in {city}."

    return agent


@pytest.mark.parametrize(("kind", "backend"), combos(KINDS, ["anthropic"]), indirect=["backend"])
async def test_tool_round_trip(server: LiveServer, backend: Backend, kind: str) -> None:
    asked: list[str] = []
    backend.script(Call.one("call_p1", "get_weather", {"city": "Paris"}), Say("Sunny in Paris."))
    result = await _weather_agent(_model(server, kind, backend.model), backend, asked).run(
        "What is the weather in Paris? Use the get_weather tool.")
    assert len(asked) == 1
    assert result.output.strip()
    if backend.scripted:
        assert asked == ["Paris"]
        assert result.output == "Sunny in Paris."
        assert backend.tool_results() == ["It is sunny in Paris."]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("backend", UPSTREAMS, indirect=True)
async def test_tool_round_trip_after_thinking(server: LiveServer, backend: Backend, kind: str) -> None:
    """The reasoning pydantic-ai sends back with the tool call carries no signature: on
    the Anthropic upstream the next turn goes without thinking rather than be refused."""
    asked: list[str] = []
    backend.script(Call.one("call_p2", "get_weather", {"city": "Rome"}, thinking="Ask the tool."),
                   Say("Sunny in Rome."))
    agent = _weather_agent(_model(server, kind, backend.model), backend, asked)
    thinking = ({"anthropic_thinking": {"type": "enabled", "budget_tokens": 1024}} if kind == "anthropic"
                else {"openai_reasoning_effort": "low"})
    result = await agent.run("Weather in Rome?", model_settings={**_settings(backend), "max_tokens": 4000, **thinking})
    assert asked == ["Rome"]
    assert result.output == "Sunny in Rome."
    if backend.model == VIA_ANTHROPIC:
        first, second = backend.sent()
        assert first["thinking"]["type"] == "enabled"
        last_assistant = [m for m in second["messages"] if m["role"] == "assistant"][-1]
        assert last_assistant["content"][0]["type"] in ("thinking", "tool_use")
        if last_assistant["content"][0]["type"] == "tool_use":
            assert "thinking" not in second


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("backend", ALL, indirect=True)
async def test_streaming(server: LiveServer, backend: Backend, kind: str) -> None:
    backend.script(Say("Hello there, streamer."))
    agent = Agent(_model(server, kind, backend.model), instructions="Greet briefly.", model_settings=_settings(backend))
    async with agent.run_stream("Say hello.") as run:
        deltas = [d async for d in run.stream_text(delta=True, debounce_by=None)]
    assert len(deltas) >= 2 and "".join(deltas).strip()
    if backend.scripted:
        assert "".join(deltas) == "Hello there, streamer."
        assert backend.sent()[-1]["stream"] is True


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("backend", ALL, indirect=True)
async def test_structured_output_by_tool(server: LiveServer, backend: Backend, kind: str) -> None:
    backend.script(Call.one("call_p3", "final_result", {"name": "Paris", "country": "France"}))
    agent = Agent(_model(server, kind, backend.model), output_type=City, model_settings=_settings(backend))
    result = await agent.run("Which city is the capital of France? Give the city and its country.")
    assert isinstance(result.output, City)
    if backend.scripted:
        assert result.output == City(name="Paris", country="France")


@pytest.mark.parametrize("kind", ["chat", "responses"])  # pydantic-ai's Anthropic model: only for known models
@pytest.mark.parametrize("backend", ALL, indirect=True)
async def test_structured_output_native(server: LiveServer, backend: Backend, kind: str) -> None:
    backend.script(Say('{"name": "Paris", "country": "France"}'))
    agent = Agent(_model(server, kind, backend.model), output_type=NativeOutput(City),
                  model_settings=_settings(backend))
    result = await agent.run("Which city is the capital of France? Give the city and its country.")
    assert isinstance(result.output, City)
    if backend.scripted:
        assert result.output == City(name="Paris", country="France")
