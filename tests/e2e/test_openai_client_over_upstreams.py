"""The OpenAI SDK against Switchyard, relayed to both kinds of scripted upstream."""

from __future__ import annotations

import json

import openai
import orjson
import pytest

from tests.conftest import VIA_ANTHROPIC, VIA_OPENAI
from tests.e2e.raw import post, sse
from tests.fakes import anthropic_wire as aw
from tests.fakes import openai_wire as ow
from tests.spec import validate_openai

WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Weather for a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}},
                       "required": ["city"]},
    },
}


def test_chat_to_openai_upstream_relays_request_and_answer(oai, fake_openai) -> None:
    fake_openai.script(ow.completion("Bonjour!", use=ow.usage(prompt=20, completion=3, cached=8)))
    reply = oai.chat.completions.create(
        model=VIA_OPENAI, messages=[{"role": "system", "content": "Be French."},
                                    {"role": "user", "content": "Hello"}],
        temperature=0.2, max_tokens=50, user="u-1",
    )
    assert reply.choices[0].message.content == "Bonjour!"
    assert reply.choices[0].finish_reason == "stop"
    assert reply.model == VIA_OPENAI
    assert reply.id.startswith("chatcmpl-")
    assert reply.usage.prompt_tokens == 20 and reply.usage.completion_tokens == 3
    assert reply.usage.prompt_tokens_details.cached_tokens == 8
    sent = fake_openai.last
    assert sent.path == "/v1/chat/completions"
    assert sent.headers["authorization"] == "Bearer upstream-openai-key"
    assert sent.body["model"] == "gpt-upstream"
    assert sent.body["messages"][0] == {"role": "system", "content": "Be French."}
    assert sent.body["temperature"] == 0.2


def test_chat_to_anthropic_upstream_translates_both_ways(oai, fake_anthropic) -> None:
    fake_anthropic.script(aw.message([aw.thinking("Let me think.", "sig-abc"), aw.text("Hi there")],
                                     use=aw.usage(input_tokens=30, output_tokens=9, cache_read=5)))
    reply = oai.chat.completions.create(
        model=VIA_ANTHROPIC,
        messages=[{"role": "developer", "content": "Be brief."}, {"role": "user", "content": "Hello"}],
        max_completion_tokens=3000, stop=["END"], reasoning_effort="low",
    )
    assert reply.choices[0].message.content == "Hi there"
    assert reply.usage.prompt_tokens == 35 and reply.usage.completion_tokens == 9
    assert reply.usage.prompt_tokens_details.cached_tokens == 5
    sent = fake_anthropic.last
    assert sent.path == "/v1/messages"
    assert sent.headers["x-api-key"] == "upstream-anthropic-key"
    assert sent.headers["anthropic-version"]
    assert sent.body["model"] == "claude-upstream"
    assert sent.body["max_tokens"] == 3000
    assert sent.body["stop_sequences"] == ["END"]
    assert "Be brief." in json.dumps(sent.body["system"])
    assert sent.body["messages"] == [{"role": "user", "content": [{"type": "text", "text": "Hello"}]}] \
        or sent.body["messages"] == [{"role": "user", "content": "Hello"}]
    assert sent.body["thinking"]["type"] == "enabled"


@pytest.mark.parametrize("model", [VIA_OPENAI, VIA_ANTHROPIC])
def test_streaming_tool_calls_arrive_as_deltas(oai, fake_openai, fake_anthropic, model) -> None:
    if model == VIA_OPENAI:
        fake_openai.script(ow.stream(["Checking."], tool_calls=[
            ("call_1", "get_weather", ['{"ci', 'ty": "Par', 'is"}']),
            ("call_2", "get_weather", ['{"city": ', '"Rome"}'])]))
    else:
        fake_anthropic.script(aw.stream([aw.text("Checking."),
                                         aw.tool_use("toolu_1", "get_weather", {"city": "Paris"}),
                                         aw.tool_use("toolu_2", "get_weather", {"city": "Rome"})]))
    deltas = 0
    with oai.chat.completions.stream(
        model=model, messages=[{"role": "user", "content": "Weather in Paris and Rome?"}],
        tools=[WEATHER_TOOL],
    ) as stream:
        for event in stream:
            if event.type == "tool_calls.function.arguments.delta":
                deltas += 1
        final = stream.get_final_completion()
    calls = final.choices[0].message.tool_calls
    assert [json.loads(c.function.arguments) for c in calls] == [{"city": "Paris"}, {"city": "Rome"}]
    assert all(c.function.name == "get_weather" and c.id for c in calls)
    assert final.choices[0].finish_reason == "tool_calls"
    assert final.choices[0].message.content == "Checking."
    assert deltas >= 4


def test_tool_round_trip_to_anthropic_upstream(oai, fake_anthropic) -> None:
    fake_anthropic.script(aw.message([aw.text("It is sunny in Paris.")]))
    reply = oai.chat.completions.create(
        model=VIA_ANTHROPIC, tools=[WEATHER_TOOL], tool_choice="required", parallel_tool_calls=False,
        messages=[
            {"role": "user", "content": "Weather in Paris?"},
            {"role": "assistant", "content": None, "tool_calls": [
                {"id": "call_9", "type": "function",
                 "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'}}]},
            {"role": "tool", "tool_call_id": "call_9", "content": "sunny, 24C"},
        ],
    )
    assert reply.choices[0].message.content == "It is sunny in Paris."
    body = fake_anthropic.last.body
    assert body["tool_choice"] == {"type": "any", "disable_parallel_tool_use": True}
    assert body["tools"][0]["name"] == "get_weather"
    assert body["tools"][0]["input_schema"]["required"] == ["city"]
    assistant, result = body["messages"][1], body["messages"][2]
    assert assistant["role"] == "assistant"
    assert assistant["content"][-1] == {"type": "tool_use", "id": "call_9", "name": "get_weather",
                                        "input": {"city": "Paris"}}
    assert result["role"] == "user"
    block = result["content"][0]
    assert block["type"] == "tool_result" and block["tool_use_id"] == "call_9"
    assert "sunny, 24C" in json.dumps(block["content"])


@pytest.mark.parametrize("model", [VIA_OPENAI, VIA_ANTHROPIC])
def test_stream_wire_format_matches_the_spec(server, fake_openai, fake_anthropic, model) -> None:
    if model == VIA_OPENAI:
        fake_openai.script(ow.stream(["a", "b"], reasoning=["hmm"]))
    else:
        fake_anthropic.script(aw.stream([aw.thinking("hmm", "sig"), aw.text("ab")]))
    frames = sse(server, "/v1/chat/completions", {
        "model": model, "stream": True, "stream_options": {"include_usage": True},
        "messages": [{"role": "user", "content": "hi"}]})
    assert frames[-1] == (None, "[DONE]")
    chunks = [orjson.loads(data) for _, data in frames[:-1]]
    for chunk in chunks:
        validate_openai(chunk, "CreateChatCompletionStreamResponse")
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    assert "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c["choices"]) == "ab"
    assert "".join(c["choices"][0]["delta"].get("reasoning_content") or ""
                   for c in chunks if c["choices"]) == "hmm"
    assert [c["choices"][0]["finish_reason"] for c in chunks if c["choices"]][-1] == "stop"
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"]["total_tokens"] > 0
    assert len({c["id"] for c in chunks}) == 1


@pytest.mark.parametrize("model", [VIA_OPENAI, VIA_ANTHROPIC])
def test_non_stream_body_matches_the_spec(server, fake_openai, fake_anthropic, model) -> None:
    if model == VIA_OPENAI:
        fake_openai.script(ow.completion(None, tool_calls=[("call_1", "get_weather", '{"city":"Oslo"}')],
                                         finish_reason="tool_calls"))
    else:
        fake_anthropic.script(aw.message([aw.tool_use("toolu_1", "get_weather", {"city": "Oslo"})],
                                         stop_reason="tool_use"))
    response = post(server, "/v1/chat/completions", {
        "model": model, "tools": [WEATHER_TOOL], "messages": [{"role": "user", "content": "Oslo?"}]})
    assert response.status_code == 200
    body = response.json()
    validate_openai(body, "CreateChatCompletionResponse")
    assert body["choices"][0]["finish_reason"] == "tool_calls"
    call = body["choices"][0]["message"]["tool_calls"][0]
    assert json.loads(call["function"]["arguments"]) == {"city": "Oslo"}


@pytest.mark.parametrize(("status", "expected", "retry_after"), [
    (429, openai.RateLimitError, "7"), (500, openai.APIStatusError, None),
    (503, openai.APIStatusError, None), (400, openai.BadRequestError, None)])
def test_upstream_http_errors_map_to_openai_errors(oai, fake_openai, status, expected, retry_after) -> None:
    headers = {"retry-after": retry_after} if retry_after else {}
    fake_openai.script(ow.error(status, "upstream says no", headers=headers))
    with pytest.raises(expected) as caught:
        oai.chat.completions.create(model=VIA_OPENAI, messages=[{"role": "user", "content": "x"}])
    error = caught.value
    assert "upstream says no" in error.message
    wanted = {429: 429, 500: 502, 503: 503, 400: 400}[status]
    assert error.status_code == wanted
    if retry_after:
        assert error.response.headers["retry-after"] == retry_after
    assert error.body["type"] if isinstance(error.body, dict) else True


def test_upstream_timeout_is_504(oai, fake_openai) -> None:
    fake_openai.script(ow.stream(["never"], delay=5))
    with pytest.raises(openai.APIStatusError) as caught:
        oai.chat.completions.create(model=VIA_OPENAI, stream=True,
                                    messages=[{"role": "user", "content": "x"}])
    assert caught.value.status_code == 504


def test_upstream_failure_mid_stream_ends_with_error_event(server, fake_openai) -> None:
    fake_openai.script(ow.stream(["one ", "two ", "three"], drop_after=3))
    frames = sse(server, "/v1/chat/completions", {
        "model": VIA_OPENAI, "stream": True, "messages": [{"role": "user", "content": "count"}]})
    last = orjson.loads(frames[-1][1])
    assert "error" in last and last["error"]["message"]
    assert all(data != "[DONE]" for _, data in frames)
    text = "".join(orjson.loads(d)["choices"][0]["delta"].get("content") or ""
                   for _, d in frames[:-1])
    assert text == "one two "


def test_alias_routes_to_configured_model(oai, fake_openai) -> None:
    fake_openai.script(ow.completion("aliased"))
    reply = oai.chat.completions.create(model="gpt-alias-mini", messages=[{"role": "user", "content": "x"}])
    assert reply.choices[0].message.content == "aliased"
    assert fake_openai.last.body["model"] == "gpt-upstream"
