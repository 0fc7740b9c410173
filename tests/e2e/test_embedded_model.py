"""Both SDKs against the embedded model, offline: answers, streams, tool calls
and schema-valid JSON."""

from __future__ import annotations

import asyncio
import json

import anthropic
import jsonschema
import openai
import pytest

from tests.conftest import LOCAL
from tests.server import MASTER_KEY

pytestmark = pytest.mark.slow

WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Get the current weather for a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}},
                       "required": ["city"]},
    },
}
PERSON = {
    "type": "object",
    "properties": {"name": {"type": "string"}, "age": {"type": "integer", "minimum": 0}},
    "required": ["name", "age"],
    "additionalProperties": False,
}


def test_chat_answers(oai) -> None:
    reply = oai.chat.completions.create(
        model=LOCAL, max_tokens=20, temperature=0,
        messages=[{"role": "user", "content": "What is the capital of France? One word."}])
    assert "paris" in reply.choices[0].message.content.lower()
    assert reply.usage.prompt_tokens > 5 and 0 < reply.usage.completion_tokens <= 20


def test_chat_streams_token_by_token(oai) -> None:
    pieces = []
    with oai.chat.completions.stream(
        model=LOCAL, max_tokens=24, temperature=0,
        messages=[{"role": "user", "content": "Count from 1 to 5, separated by spaces."}],
    ) as stream:
        for event in stream:
            if event.type == "content.delta":
                pieces.append(event.delta)
        final = stream.get_final_completion()
    assert len(pieces) >= 5
    assert "".join(pieces) == final.choices[0].message.content
    assert "3" in final.choices[0].message.content


def test_chat_tool_call(oai) -> None:
    reply = oai.chat.completions.create(
        model=LOCAL, max_tokens=60, temperature=0, tools=[WEATHER_TOOL], tool_choice="required",
        messages=[{"role": "user", "content": "What is the weather in Tokyo?"}])
    choice = reply.choices[0]
    assert choice.finish_reason == "tool_calls"
    call = choice.message.tool_calls[0]
    assert call.function.name == "get_weather"
    assert "tokyo" in json.loads(call.function.arguments)["city"].lower()


def test_chat_json_schema_output_is_valid(oai) -> None:
    reply = oai.chat.completions.create(
        model=LOCAL, max_tokens=60, temperature=0,
        response_format={"type": "json_schema",
                         "json_schema": {"name": "person", "schema": PERSON, "strict": True}},
        messages=[{"role": "user", "content": "Invent a person: name and age."}])
    value = json.loads(reply.choices[0].message.content)
    jsonschema.validate(value, PERSON)


def test_messages_answer_and_stream(claude) -> None:
    message = claude.messages.create(model=LOCAL, max_tokens=20, extra_body={"temperature": 0},
                                     system="Answer in one word.",
                                     messages=[{"role": "user", "content": "Capital of Italy?"}])
    assert "rome" in message.content[0].text.lower()
    with claude.messages.stream(model=LOCAL, max_tokens=16, extra_body={"temperature": 0},
                                messages=[{"role": "user", "content": "Say hello."}]) as stream:
        text = "".join(stream.text_stream)
        final = stream.get_final_message()
    assert text and text == final.content[0].text
    assert final.usage.output_tokens > 0


def test_messages_tool_use(claude) -> None:
    message = claude.messages.create(
        model=LOCAL, max_tokens=60, extra_body={"temperature": 0}, tool_choice={"type": "any"},
        tools=[{"name": "get_weather", "description": "Get the current weather for a city",
                "input_schema": WEATHER_TOOL["function"]["parameters"]}],
        messages=[{"role": "user", "content": "Weather in Berlin?"}])
    assert message.stop_reason == "tool_use"
    tool = next(b for b in message.content if b.type == "tool_use")
    assert tool.name == "get_weather" and "berlin" in tool.input["city"].lower()


def test_legacy_completions(oai) -> None:
    reply = oai.completions.create(model=LOCAL, prompt="1, 2, 3, 4,", max_tokens=6, temperature=0)
    assert reply.object == "text_completion"
    assert "5" in reply.choices[0].text


async def test_concurrent_requests_queue_without_errors(server) -> None:
    client = openai.AsyncOpenAI(base_url=server.url + "/v1", api_key=MASTER_KEY, max_retries=0,
                                timeout=300, _strict_response_validation=True)
    replies = await asyncio.gather(*[
        client.chat.completions.create(model=LOCAL, max_tokens=8, temperature=0,
                                       messages=[{"role": "user", "content": f"Say the number {i}."}])
        for i in range(6)])
    assert all(r.choices[0].message.content for r in replies)
    await client.close()


def test_count_tokens_on_local_model(claude) -> None:
    short = claude.messages.count_tokens(model=LOCAL, messages=[{"role": "user", "content": "hi"}])
    longer = claude.messages.count_tokens(model=LOCAL, messages=[
        {"role": "user", "content": "hi " * 50}])
    assert 0 < short.input_tokens < longer.input_tokens


def test_images_are_refused_clearly_by_the_text_model(claude) -> None:
    with pytest.raises(anthropic.BadRequestError) as caught:
        claude.messages.create(model=LOCAL, max_tokens=5, messages=[{"role": "user", "content": [
            {"type": "image", "source": {"type": "url", "url": "https://example.com/a.png"}}]}])
    assert "image" in caught.value.message.lower()
