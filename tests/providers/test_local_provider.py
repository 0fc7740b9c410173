"""The local provider end to end on the packaged model (temperature 0, short outputs)."""

from __future__ import annotations

import asyncio
import json
import os
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

import jsonschema
import pytest

from switchyard.config import ModelConfig
from switchyard.core.errors import SwitchyardError
from switchyard.core.events import BlockStart, Event, Start, TextDelta, UsageReport
from switchyard.core.items import ImagePart, Message, TextPart, text_message
from switchyard.core.request import Request, ResponseFormat, Tool, ToolChoice
from switchyard.core.result import afold
from switchyard.providers.local import LocalProvider

pytestmark = pytest.mark.slow

MODEL_DIR = Path(os.environ.get("SWITCHYARD_TEST_MODEL_DIR", Path(tempfile.gettempdir()) / "switchyard-test"))

WEATHER = Tool(
    name="get_weather",
    description="Get the current weather for a city.",
    parameters={
        "$schema": "http://json-schema.org/draft-07/schema#",
        "type": "object",
        "properties": {
            "city": {"type": "string", "description": "City name"},
            "days": {"type": "integer", "exclusiveMinimum": 0, "maximum": 9007199254740991},
        },
        "required": ["city"],
        "additionalProperties": False,
    },
)
TIME = Tool(
    name="get_time",
    description="Current time in a timezone.",
    parameters={"type": "object", "properties": {"tz": {"type": "string"}}, "required": ["tz"]},
)


@pytest.fixture(scope="module")
async def provider() -> AsyncIterator[LocalProvider]:
    config = ModelConfig(name="local-test", provider="local", context_length=2048)
    p = LocalProvider(config, MODEL_DIR)
    await p.start()
    await p.start()  # idempotent
    yield p
    await p.aclose()


def ask(text: str, **kw: object) -> Request:
    kw.setdefault("temperature", 0)
    kw.setdefault("max_output_tokens", 24)
    return Request(model="local-test", items=[text_message("user", text)], **kw)  # type: ignore[arg-type]


async def collect(events: AsyncIterator[Event]) -> list[Event]:
    return [e async for e in events]


async def test_plain_text_streams_token_by_token(provider: LocalProvider) -> None:
    events = await collect(provider.generate(ask("Count from 1 to 10, separated by commas.")))
    assert isinstance(events[0], Start) and events[0].model == "local-test"
    deltas = [e for e in events if isinstance(e, TextDelta)]
    assert len(deltas) >= 5
    assert isinstance(events[-1], UsageReport)
    assert events[-1].usage.output_tokens >= len(deltas)
    assert events[-1].usage.input_tokens > 10
    result = await afold(_replay(events))
    assert "1, 2, 3" in result.choices[0].text()


async def test_length_and_stop_sequence(provider: LocalProvider) -> None:
    result = await afold(provider.generate(ask("Count from 1 to 20, separated by commas.", max_output_tokens=4)))
    assert result.choices[0].finish_reason == "length"
    assert result.usage.output_tokens == 4
    result = await afold(provider.generate(ask("Count from 1 to 20, separated by commas.", stop=["5"])))
    choice = result.choices[0]
    assert (choice.finish_reason, choice.stop_sequence) == ("stop", "5")
    assert "4" in choice.text() and "5" not in choice.text()


async def test_json_schema_output_validates(provider: LocalProvider) -> None:
    schema = {
        "type": "object",
        "properties": {
            "name": {"type": "string", "maxLength": 100000},
            "age": {"type": "integer", "minimum": 0},
            "tags": {"type": "array", "items": {"type": "string"}},
        },
        "required": ["name", "age", "tags"],
        "additionalProperties": False,
    }
    req = ask(
        "Invent a person.",
        max_output_tokens=60,
        response_format=ResponseFormat("json_schema", schema=schema, strict=True),
    )
    result = await afold(provider.generate(req))
    jsonschema.validate(json.loads(result.choices[0].text()), schema)


async def test_json_object_output_parses(provider: LocalProvider) -> None:
    req = ask(
        "Reply with a JSON object describing a cat.",
        max_output_tokens=200,
        response_format=ResponseFormat("json_object"),
    )
    result = await afold(provider.generate(req))
    assert isinstance(json.loads(result.choices[0].text()), dict)


@pytest.mark.parametrize("choice", [ToolChoice("required"), ToolChoice("tool", "get_weather")])
async def test_forced_tool_call(provider: LocalProvider, choice: ToolChoice) -> None:
    req = ask("What is the weather like in Paris?", tools=[TIME, WEATHER], tool_choice=choice, max_output_tokens=60)
    events = await collect(provider.generate(req))
    starts = [e for e in events if isinstance(e, BlockStart)]
    assert starts[0].kind == "tool_call" and starts[0].call_id.startswith("call_")  # type: ignore[union-attr]
    result = await afold(_replay(events))
    [call] = result.choices[0].tool_calls()
    assert call.name == "get_weather"
    jsonschema.validate(json.loads(call.arguments), WEATHER.parameters)
    assert result.choices[0].finish_reason == "tool_calls"


async def test_model_calls_a_tool_on_its_own(provider: LocalProvider) -> None:
    req = ask("What is the weather like in Paris right now?", tools=[WEATHER], max_output_tokens=60)
    result = await afold(provider.generate(req))
    calls = result.choices[0].tool_calls()
    assert [c.name for c in calls] == ["get_weather"]
    assert json.loads(calls[0].arguments)["city"] == "Paris"
    assert result.choices[0].finish_reason == "tool_calls"


async def test_n_seed_and_logprobs(provider: LocalProvider) -> None:
    req = ask("Say hello.", n=2, temperature=0.9, seed=7, max_output_tokens=6, logprobs=True, top_logprobs=2)
    result = await afold(provider.generate(req))
    assert [c.index for c in result.choices] == [0, 1]
    lp = result.choices[0].logprobs
    assert lp and all(x.logprob <= 0 and len(x.top) == 2 for x in lp)
    again = await afold(provider.generate(req))
    assert [c.text() for c in again.choices] == [c.text() for c in result.choices]


async def test_concurrent_requests_all_finish(provider: LocalProvider) -> None:
    prompts = [f"Name a colour. ({i})" for i in range(8)]
    results = await asyncio.gather(*(afold(provider.generate(ask(p, max_output_tokens=8))) for p in prompts))
    assert all(r.choices[0].text() for r in results)
    assert all(r.choices[0].finish_reason in ("stop", "length") for r in results)


async def test_cancelled_consumer_stops_generation(provider: LocalProvider) -> None:
    before = provider.tokens_generated
    stream = provider.generate(ask("Write a long essay about rivers.", max_output_tokens=400))
    seen = 0
    async for event in stream:
        seen += isinstance(event, TextDelta)
        if seen == 3:
            break
    await stream.aclose()  # type: ignore[attr-defined]
    # The next request runs once the worker is free; by then the abandoned essay must have
    # stopped within a few tokens of the cancel, far short of its 400.
    result = await afold(provider.generate(ask("Say yes.", max_output_tokens=4)))
    assert result.choices[0].text()
    assert provider.tokens_generated - before < 40


async def test_task_cancellation_stops_generation(provider: LocalProvider) -> None:
    async def consume() -> None:
        await collect(provider.generate(ask("Write a long essay about mountains.", max_output_tokens=400)))

    before = provider.tokens_generated
    task = asyncio.create_task(consume())
    while provider.tokens_generated - before < 3:
        await asyncio.sleep(0.05)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    result = await afold(provider.generate(ask("Say yes.", max_output_tokens=4)))
    assert result.choices[0].text()
    assert provider.tokens_generated - before < 40


async def test_context_overflow_raises_before_any_event(provider: LocalProvider) -> None:
    stream = provider.generate(ask("word " * 5000))
    with pytest.raises(SwitchyardError) as info:
        await stream.__anext__()  # type: ignore[attr-defined]
    assert info.value.status == 400 and info.value.param == "messages"


async def test_images_are_refused(provider: LocalProvider) -> None:
    req = Request(model="m", items=[Message("user", [TextPart("hi"), ImagePart(url="x")])])
    with pytest.raises(SwitchyardError) as info:
        await collect(provider.generate(req))
    assert info.value.param == "messages[0].content[1]"


async def test_raw_prompt_completion(provider: LocalProvider) -> None:
    req = ask("The capital of France is", metadata={"raw_prompt": True}, max_output_tokens=3)
    result = await afold(provider.generate(req))
    assert "Paris" in result.choices[0].text()


async def test_count_tokens_includes_tools(provider: LocalProvider) -> None:
    plain = await provider.count_tokens(ask("hi"))
    with_tools = await provider.count_tokens(ask("hi", tools=[WEATHER]))
    assert 5 < plain < with_tools


async def _replay(events: list[Event]) -> AsyncIterator[Event]:
    for e in events:
        yield e
