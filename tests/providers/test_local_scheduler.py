"""The local provider's scheduler on the packaged model: prefix reuse counted by the
engine, concurrent sequences that match their solo runs, the bounded queue, and
cancellation freeing a slot."""

from __future__ import annotations

import asyncio
import os
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from switchyard.config import ModelConfig
from switchyard.core.errors import SwitchyardError
from switchyard.core.events import Start, TextDelta
from switchyard.core.items import text_message
from switchyard.core.request import Request
from switchyard.core.result import afold
from switchyard.providers.local import LocalProvider

pytestmark = pytest.mark.slow

MODEL_DIR = Path(os.environ.get("SWITCHYARD_TEST_MODEL_DIR", Path(tempfile.gettempdir()) / "switchyard-test"))
RIVERS = " ".join(f"River {i} flows past town {i * 7 % 13} and meets the sea after {i * 3} miles." for i in range(60))


async def started(**settings: object) -> LocalProvider:
    config = ModelConfig(name="local-test", provider="local", context_length=4096, **settings)  # type: ignore[arg-type]
    provider = LocalProvider(config, MODEL_DIR)
    await provider.start()
    return provider


@pytest.fixture(scope="module")
async def provider() -> AsyncIterator[LocalProvider]:
    p = await started(slots=4)
    yield p
    await p.aclose()


def chat(*turns: tuple[str, str], **kw: object) -> Request:
    kw.setdefault("temperature", 0)
    kw.setdefault("max_output_tokens", 12)
    return Request(model="local-test", items=[text_message(r, t) for r, t in turns], **kw)  # type: ignore[arg-type]


async def test_next_turn_evaluates_only_the_new_tokens(provider: LocalProvider) -> None:
    first = [("user", f"Here are notes about rivers.\n{RIVERS}\nWhich river is the longest?")]
    before = provider.prompt_tokens_evaluated
    one = await afold(provider.generate(chat(*first)))
    evaluated_one = provider.prompt_tokens_evaluated - before
    assert one.usage.input_tokens > 1000
    assert evaluated_one == one.usage.input_tokens - one.usage.cached_input_tokens

    second = [*first, ("assistant", one.choices[0].text()), ("user", "And the shortest?")]
    before = provider.prompt_tokens_evaluated
    two = await afold(provider.generate(chat(*second)))
    evaluated_two = provider.prompt_tokens_evaluated - before
    # Only the reply and the new question are evaluated; the first turn's prompt is reused.
    assert two.usage.cached_input_tokens >= one.usage.input_tokens
    assert evaluated_two == two.usage.input_tokens - two.usage.cached_input_tokens
    assert evaluated_two < 40


async def test_an_unrelated_request_leaves_a_long_conversation_cached(provider: LocalProvider) -> None:
    long = [("user", f"Notes:\n{RIVERS}\nName one river.")]
    first = await afold(provider.generate(chat(*long)))
    for i in range(3):  # fewer than the slots: the long prefix keeps its slot
        await afold(provider.generate(chat(("user", f"Say the word {i}."))))
    again = await afold(provider.generate(chat(*long)))
    assert again.usage.cached_input_tokens == first.usage.input_tokens - 1
    assert again.choices[0].text() == first.choices[0].text()


async def test_simultaneous_requests_produce_what_each_produces_alone(provider: LocalProvider) -> None:
    prompts = [f"Write one sentence about the number {n}." for n in (3, 17, 42, 99)]
    alone = [(await afold(provider.generate(chat(("user", p), max_output_tokens=24)))).choices[0].text()
             for p in prompts]
    together = await asyncio.gather(*(afold(provider.generate(chat(("user", p), max_output_tokens=24)))
                                      for p in prompts))
    assert [r.choices[0].text() for r in together] == alone
    assert all(alone)


async def test_n_choices_decode_as_parallel_sequences(provider: LocalProvider) -> None:
    req = chat(("user", "Name a fruit."), n=3, temperature=1.0, seed=11, max_output_tokens=8)
    result = await afold(provider.generate(req))
    assert [c.index for c in result.choices] == [0, 1, 2]
    assert all(c.text() for c in result.choices)
    again = await afold(provider.generate(req))
    assert [c.text() for c in again.choices] == [c.text() for c in result.choices]


async def test_full_queue_is_refused_with_retry_after() -> None:
    provider = await started(slots=1, max_queue=1)
    try:
        long = chat(("user", "Write a long essay about rivers."), max_output_tokens=400)
        running = provider.generate(long)
        assert isinstance(await running.__anext__(), Start)  # type: ignore[attr-defined]
        queued = provider.generate(long)
        assert isinstance(await queued.__anext__(), Start)  # type: ignore[attr-defined]
        refused = provider.generate(long)
        with pytest.raises(SwitchyardError) as info:
            await refused.__anext__()  # type: ignore[attr-defined]
        assert info.value.status == 503 and info.value.kind == "overloaded"
        assert info.value.retry_after is not None and int(info.value.retry_after) >= 1
        assert "busy" in info.value.message
        await running.aclose()  # type: ignore[attr-defined]
        await queued.aclose()  # type: ignore[attr-defined]
        # Cancelled requests hold no place: the next one is admitted and answered.
        result = await afold(provider.generate(chat(("user", "Say yes."), max_output_tokens=3)))
        assert result.choices[0].text()
    finally:
        await provider.aclose()


async def test_cancelled_stream_frees_its_slot_within_a_token() -> None:
    provider = await started(slots=1, max_queue=0)
    try:
        before = provider.tokens_generated
        stream = provider.generate(chat(("user", "Write a long essay about rivers."), max_output_tokens=400))
        seen = 0
        async for event in stream:
            seen += isinstance(event, TextDelta)
            if seen == 3:
                break
        await stream.aclose()  # type: ignore[attr-defined]
        # One slot and no queue: this is admitted only because the cancelled stream let go.
        result = await afold(provider.generate(chat(("user", "Say yes."), max_output_tokens=4)))
        assert result.choices[0].text()
        assert provider.tokens_generated - before < 20
    finally:
        await provider.aclose()
