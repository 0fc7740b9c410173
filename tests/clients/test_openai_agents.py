"""The OpenAI Agents SDK (``openai-agents``) on Switchyard, with its Responses and
its Chat Completions model, over both vendors' upstreams and the embedded model."""

from __future__ import annotations

import openai
import pytest
from agents import Agent, ModelSettings, RunConfig, Runner, function_tool
from agents.models.openai_chatcompletions import OpenAIChatCompletionsModel
from agents.models.openai_responses import OpenAIResponsesModel
from pydantic import BaseModel

from tests.clients.backends import ALL, UPSTREAMS, Backend, Call, Say, combos
from tests.conftest import LOCAL
from tests.server import MASTER_KEY, LiveServer

APIS = ["responses", "chat"]
NO_TRACING = RunConfig(tracing_disabled=True)


class City(BaseModel):
    name: str
    country: str


def _model(server: LiveServer, api: str, name: str) -> OpenAIResponsesModel | OpenAIChatCompletionsModel:
    client = openai.AsyncOpenAI(base_url=server.url + "/v1", api_key=MASTER_KEY, max_retries=0, timeout=120)
    if api == "responses":
        return OpenAIResponsesModel(model=name, openai_client=client)
    return OpenAIChatCompletionsModel(model=name, openai_client=client)


def _weather_agent(server: LiveServer, api: str, backend: Backend, asked: list[str], strict: bool = True) -> Agent:
    """The tool is offered until it has been used once, so the next turn answers in text
    (the embedded model would otherwise ask again and again)."""

    @function_tool(strict_mode=strict, is_enabled=lambda _ctx, _agent: not asked)
    def get_weather(city: str) -> str:
        """The weather in a city."""
        asked.append(city)
        return f"It is sunny in {city}."

    return Agent(name="weather", instructions="Use get_weather to answer questions about the weather.",
                 model=_model(server, api, backend.model), tools=[get_weather],
                 model_settings=ModelSettings(tool_choice="required", max_tokens=backend.max_tokens, temperature=0))


@pytest.mark.parametrize(("api", "backend"), combos(APIS, ["responses"]), indirect=["backend"])
async def test_tool_round_trip(server: LiveServer, backend: Backend, api: str) -> None:
    asked: list[str] = []
    backend.script(Call.one("call_w1", "get_weather", {"city": "Paris"}), Say("Sunny in Paris."))
    result = await Runner.run(_weather_agent(server, api, backend, asked), "What is the weather in Paris?",
                              run_config=NO_TRACING)
    assert len(asked) == 1
    assert isinstance(result.final_output, str) and result.final_output.strip()
    if backend.scripted:
        assert asked == ["Paris"]
        assert result.final_output == "Sunny in Paris."
        assert backend.tool_results() == ["It is sunny in Paris."]


@pytest.mark.parametrize("api", APIS)
@pytest.mark.parametrize("backend", UPSTREAMS, indirect=True)
async def test_streamed_tool_round_trip(server: LiveServer, backend: Backend, api: str) -> None:
    """Strict tools are buffered on a backend that cannot enforce them (the Anthropic
    upstream), so the tool here is not strict: the answer streams as it comes."""
    asked: list[str] = []
    backend.script(Call.one("call_w2", "get_weather", {"city": "Oslo"}), Say("Sunny in Oslo, enjoy."))
    result = Runner.run_streamed(_weather_agent(server, api, backend, asked, strict=False), "Weather in Oslo?",
                                 run_config=NO_TRACING)
    deltas: list[str] = []
    async for event in result.stream_events():
        if event.type == "raw_response_event" and getattr(event.data, "type", "") == "response.output_text.delta":
            deltas.append(event.data.delta)
    assert asked == ["Oslo"]
    assert result.final_output == "Sunny in Oslo, enjoy."
    assert len(deltas) >= 2 and "".join(deltas) == "Sunny in Oslo, enjoy."
    assert all(body.get("stream") for body in backend.sent())


async def test_streamed_answer_from_the_embedded_model(server: LiveServer) -> None:
    agent = Agent(name="echo", instructions="Answer in one short sentence.",
                  model=_model(server, "responses", LOCAL), model_settings=ModelSettings(max_tokens=20))
    result = Runner.run_streamed(agent, "Say hello.", run_config=NO_TRACING)
    deltas = [event.data.delta async for event in result.stream_events()
              if event.type == "raw_response_event" and getattr(event.data, "type", "") == "response.output_text.delta"]
    assert len(deltas) >= 2
    assert result.final_output == "".join(deltas) and result.final_output.strip()


@pytest.mark.parametrize("api", APIS)
@pytest.mark.parametrize("backend", ALL, indirect=True)
async def test_structured_output(server: LiveServer, backend: Backend, api: str) -> None:
    backend.script(Say('{"name": "Paris", "country": "France"}'))
    agent = Agent(name="geo", instructions="Answer with the city and its country.", output_type=City,
                  model=_model(server, api, backend.model), model_settings=ModelSettings(max_tokens=backend.max_tokens))
    result = await Runner.run(agent, "Which city is the capital of France?", run_config=NO_TRACING)
    assert isinstance(result.final_output, City)
    if backend.scripted:
        assert result.final_output == City(name="Paris", country="France")
        assert _schema_sent(backend)["properties"].keys() == {"name", "country"}


def _schema_sent(backend: Backend) -> dict:
    body = backend.sent()[-1]
    if "output_config" in body:
        return body["output_config"]["format"]["schema"]
    return body["response_format"]["json_schema"]["schema"]
