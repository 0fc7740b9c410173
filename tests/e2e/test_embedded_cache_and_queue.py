"""The embedded model through both SDKs: a repeated prompt prefix is reported as cached
input, and a full queue answers 503 with Retry-After in each surface's error shape."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import anthropic
import openai
import pytest

from tests.conftest import LOCAL
from tests.server import MASTER_KEY, LiveServer

pytestmark = pytest.mark.slow

NOTES = " ".join(f"Station {i} reports wind {i % 9} knots from bearing {i * 37 % 360}." for i in range(50))


def test_chat_completions_report_cached_prompt_tokens(oai: openai.OpenAI) -> None:
    messages = [{"role": "user", "content": f"Weather notes:\n{NOTES}\nWhich station is calmest?"}]
    first = oai.chat.completions.create(model=LOCAL, max_tokens=8, temperature=0, messages=messages)
    messages += [{"role": "assistant", "content": first.choices[0].message.content},
                 {"role": "user", "content": "And the windiest?"}]
    second = oai.chat.completions.create(model=LOCAL, max_tokens=8, temperature=0, messages=messages)
    cached = second.usage.prompt_tokens_details.cached_tokens
    assert first.usage.prompt_tokens <= cached < second.usage.prompt_tokens


def test_responses_report_cached_input_tokens(oai: openai.OpenAI) -> None:
    prompt = f"Station log:\n{NOTES}\nSummarise in five words."
    oai.responses.create(model=LOCAL, input=prompt, max_output_tokens=16, temperature=0)
    again = oai.responses.create(model=LOCAL, input=prompt, max_output_tokens=16, temperature=0)
    assert again.usage.input_tokens_details.cached_tokens == again.usage.input_tokens - 1


def test_messages_report_cache_read_input_tokens(claude: anthropic.Anthropic) -> None:
    messages = [{"role": "user", "content": f"Wind report:\n{NOTES}\nName one station."}]
    first = claude.messages.create(model=LOCAL, max_tokens=8, extra_body={"temperature": 0}, messages=messages)
    second = claude.messages.create(model=LOCAL, max_tokens=8, extra_body={"temperature": 0}, messages=[
        *messages, {"role": "assistant", "content": first.content[0].text},
        {"role": "user", "content": "Another one?"}])
    usage = second.usage
    # Anthropic counts cache reads apart from input_tokens.
    assert usage.cache_read_input_tokens >= first.usage.input_tokens
    assert 0 < usage.input_tokens < 40


@pytest.fixture(scope="module")
def one_slot_server(tmp_path_factory: pytest.TempPathFactory, model_path: Path) -> Iterator[LiveServer]:
    models = [{"name": LOCAL, "provider": "local", "path": str(model_path), "context_length": 2048,
               "slots": 1, "max_queue": 0}]
    live = LiveServer(tmp_path_factory.mktemp("one-slot"), models, stream_keepalive_seconds=1.0)
    live.start(wait_ready=True)
    yield live
    live.stop()


def test_full_queue_is_503_with_retry_after_on_both_surfaces(one_slot_server: LiveServer) -> None:
    oai = openai.OpenAI(base_url=one_slot_server.url + "/v1", api_key=MASTER_KEY, max_retries=0, timeout=120)
    claude = anthropic.Anthropic(base_url=one_slot_server.url, api_key=MASTER_KEY, max_retries=0, timeout=120)
    first_token = threading.Event()
    release = threading.Event()

    def hold_the_slot() -> None:
        with oai.chat.completions.create(
            model=LOCAL, max_tokens=1500, temperature=0, stream=True,
            messages=[{"role": "user", "content": "Write a long story about a lighthouse."}],
        ) as stream:
            for chunk in stream:
                if chunk.choices and chunk.choices[0].delta.content:
                    first_token.set()
                    if release.is_set():
                        break

    holder = threading.Thread(target=hold_the_slot)
    holder.start()
    try:
        assert first_token.wait(120)
        with pytest.raises(openai.InternalServerError) as caught:
            oai.chat.completions.create(model=LOCAL, max_tokens=4,
                                        messages=[{"role": "user", "content": "Hi"}])
        assert caught.value.status_code == 503
        assert int(caught.value.response.headers["retry-after"]) >= 1
        assert "busy" in caught.value.message
        with pytest.raises(anthropic.APIStatusError) as refused:
            claude.messages.create(model=LOCAL, max_tokens=4, messages=[{"role": "user", "content": "Hi"}])
        assert refused.value.status_code == 503
        assert int(refused.value.response.headers["retry-after"]) >= 1
        assert refused.value.body["type"] == "error"  # type: ignore[index]
        assert refused.value.body["error"]["type"] == "overloaded_error"  # type: ignore[index]
    finally:
        release.set()
        holder.join()
    # The slot is free again once the server sees the stream gone (a client honouring
    # Retry-After gets in).
    retrying = openai.OpenAI(base_url=one_slot_server.url + "/v1", api_key=MASTER_KEY, max_retries=20, timeout=120)
    reply = retrying.chat.completions.create(model=LOCAL, max_tokens=4, temperature=0,
                                             messages=[{"role": "user", "content": "Say yes."}])
    assert reply.choices[0].message.content
