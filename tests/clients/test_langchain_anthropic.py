"""LangChain's ``ChatAnthropic`` on Switchyard's Messages API, over both vendors'
upstreams and the embedded model."""

from __future__ import annotations

import pytest
from langchain_anthropic import ChatAnthropic
from langchain_core.messages import AIMessage, HumanMessage

from tests.clients.backends import ALL, UPSTREAMS, Backend, Call, Say
from tests.clients.langchain_shared import City, get_weather
from tests.conftest import VIA_ANTHROPIC
from tests.fakes import anthropic_wire as aw
from tests.server import MASTER_KEY, LiveServer


def _llm(server: LiveServer, backend: Backend, **kwargs) -> ChatAnthropic:
    return ChatAnthropic(model=backend.model, base_url=server.url, api_key=MASTER_KEY, max_retries=0,
                         default_request_timeout=120, temperature=0, max_tokens=backend.max_tokens, **kwargs)


@pytest.mark.parametrize("backend", ALL, indirect=True)
def test_tool_round_trip(server: LiveServer, backend: Backend) -> None:
    backend.script(Call.one("toolu_l1", "get_weather", {"city": "Paris"}), Say("Sunny in Paris."))
    llm = _llm(server, backend)
    messages = [HumanMessage("What is the weather in Paris?")]
    first = llm.bind_tools([get_weather], tool_choice="get_weather").invoke(messages)
    assert isinstance(first, AIMessage) and len(first.tool_calls) >= 1
    call = first.tool_calls[0]
    assert call["name"] == "get_weather" and isinstance(call["args"].get("city"), str)
    messages += [first, get_weather.invoke(call)]
    final = llm.bind_tools([get_weather], tool_choice={"type": "none"}).invoke(messages)
    assert final.text.strip() and not final.tool_calls
    if backend.scripted:
        assert call["args"] == {"city": "Paris"}
        assert final.text == "Sunny in Paris."
        assert backend.tool_results() == ["It is sunny in Paris."]


@pytest.mark.parametrize("backend", ALL, indirect=True)
def test_streaming(server: LiveServer, backend: Backend) -> None:
    backend.script(Say("Hello there, streamer."))
    texts = [c.text for c in _llm(server, backend).stream("Say hello.") if c.text]
    assert len(texts) >= 2
    if backend.scripted:
        assert "".join(texts) == "Hello there, streamer."
        assert backend.sent()[-1]["stream"] is True


@pytest.mark.parametrize("backend", UPSTREAMS, indirect=True)
def test_streamed_tool_call(server: LiveServer, backend: Backend) -> None:
    backend.script(Call.one("toolu_l2", "get_weather", {"city": "Oslo"}))
    merged = None
    for chunk in _llm(server, backend).bind_tools([get_weather]).stream("Weather in Oslo?"):
        merged = chunk if merged is None else merged + chunk
    assert merged is not None
    assert [(c["name"], c["args"]) for c in merged.tool_calls] == [("get_weather", {"city": "Oslo"})]


@pytest.mark.parametrize("backend", ALL, indirect=True)
def test_structured_output_by_tool(server: LiveServer, backend: Backend) -> None:
    backend.script(Call.one("toolu_l3", "City", {"name": "Paris", "country": "France"}))
    city = _llm(server, backend).with_structured_output(City).invoke(
        "Which city is the capital of France? Answer with the city and its country.")
    assert isinstance(city, City)
    if backend.scripted:
        assert city == City(name="Paris", country="France")


@pytest.mark.parametrize("backend", ALL, indirect=True)
def test_structured_output_by_json_schema(server: LiveServer, backend: Backend) -> None:
    backend.script(Say('{"name": "Paris", "country": "France"}'))
    city = _llm(server, backend).with_structured_output(City, method="json_schema").invoke(
        "Which city is the capital of France? Answer with the city and its country.")
    assert isinstance(city, City)
    if backend.scripted:
        assert city == City(name="Paris", country="France")


@pytest.mark.parametrize("backend", ALL, indirect=True)
def test_count_tokens(server: LiveServer, backend: Backend) -> None:
    """On the Anthropic upstream the count endpoint is missing here (404), as on many
    servers that speak the Messages API: Switchyard counts itself."""
    if backend.model == VIA_ANTHROPIC:
        backend.fake.script(*[aw.error(404, "not_found_error", "Not Found")] * 2)
    llm = _llm(server, backend)
    short = llm.get_num_tokens_from_messages([HumanMessage("Hi")], tools=[get_weather])
    long = llm.get_num_tokens_from_messages([HumanMessage("Hi " * 60)], tools=[get_weather])
    assert 0 < short < long
    if backend.model == VIA_ANTHROPIC:
        assert backend.sent()[0]["tools"][0]["name"] == "get_weather"
