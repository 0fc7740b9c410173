"""LangChain's ``ChatOpenAI`` on Switchyard, on Chat Completions and on the
Responses API (``use_responses_api=True``), over both vendors' upstreams and the
embedded model."""

from __future__ import annotations

import pytest
from langchain_core.messages import AIMessage, AIMessageChunk, HumanMessage
from langchain_openai import ChatOpenAI

from tests.clients.backends import ALL, UPSTREAMS, Backend, Call, Say, combos
from tests.clients.langchain_shared import City, get_weather
from tests.server import MASTER_KEY, LiveServer

APIS = [False, True]  # use_responses_api


def _llm(server: LiveServer, backend: Backend, responses: bool) -> ChatOpenAI:
    return ChatOpenAI(model=backend.model, base_url=server.url + "/v1", api_key=MASTER_KEY, max_retries=0,
                      timeout=120, temperature=0, max_tokens=backend.max_tokens, use_responses_api=responses)


@pytest.mark.parametrize(("responses", "backend"), combos(APIS, [True]), indirect=["backend"])
def test_tool_round_trip(server: LiveServer, backend: Backend, responses: bool) -> None:
    backend.script(Call.one("call_l1", "get_weather", {"city": "Paris"}), Say("Sunny in Paris."))
    llm = _llm(server, backend, responses)
    messages = [HumanMessage("What is the weather in Paris?")]
    first = llm.bind_tools([get_weather], tool_choice="get_weather").invoke(messages)
    assert isinstance(first, AIMessage) and len(first.tool_calls) >= 1
    call = first.tool_calls[0]
    assert call["name"] == "get_weather" and isinstance(call["args"].get("city"), str)
    messages += [first, get_weather.invoke(call)]
    final = llm.bind_tools([get_weather], tool_choice="none").invoke(messages)
    assert final.text.strip() and not final.tool_calls
    if backend.scripted:
        assert call["args"] == {"city": "Paris"}
        assert final.text == "Sunny in Paris."
        assert backend.tool_results() == ["It is sunny in Paris."]


@pytest.mark.parametrize("responses", APIS, ids=["chat", "responses"])
@pytest.mark.parametrize("backend", ALL, indirect=True)
def test_streaming(server: LiveServer, backend: Backend, responses: bool) -> None:
    backend.script(Say("Hello there, streamer."))
    chunks = list(_llm(server, backend, responses).stream("Say hello."))
    texts = [c.text for c in chunks if c.text]
    assert all(isinstance(c, AIMessageChunk) for c in chunks)
    assert len(texts) >= 2
    if backend.scripted:
        assert "".join(texts) == "Hello there, streamer."
        assert backend.sent()[-1]["stream"] is True


@pytest.mark.parametrize("responses", APIS, ids=["chat", "responses"])
@pytest.mark.parametrize("backend", UPSTREAMS, indirect=True)
def test_streamed_tool_call(server: LiveServer, backend: Backend, responses: bool) -> None:
    backend.script(Call.one("call_l2", "get_weather", {"city": "Oslo"}))
    llm = _llm(server, backend, responses).bind_tools([get_weather])
    merged = None
    for chunk in llm.stream("Weather in Oslo?"):
        merged = chunk if merged is None else merged + chunk
    assert merged is not None
    assert [(c["name"], c["args"]) for c in merged.tool_calls] == [("get_weather", {"city": "Oslo"})]


@pytest.mark.parametrize("responses", APIS, ids=["chat", "responses"])
@pytest.mark.parametrize("backend", ALL, indirect=True)
def test_structured_output(server: LiveServer, backend: Backend, responses: bool) -> None:
    backend.script(Say('{"name": "Paris", "country": "France"}'))
    city = _llm(server, backend, responses).with_structured_output(City).invoke(
        "Which city is the capital of France? Answer with the city and its country.")
    assert isinstance(city, City)
    if backend.scripted:
        assert city == City(name="Paris", country="France")
