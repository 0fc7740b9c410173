"""Requests an Anthropic upstream would refuse or cannot answer: thinking over an
unsigned tool turn, and token counting on a server without a count endpoint."""

from __future__ import annotations

import pytest

from tests.conftest import LOCAL, VIA_ANTHROPIC, VIA_OPENAI, VIA_RESPONSES
from tests.fakes import anthropic_wire as aw
from tests.fakes.upstream import Reply

WEATHER = {"type": "function", "function": {
    "name": "get_weather", "description": "Weather for a city",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}
NOT_FOUND = aw.error(404, "not_found_error", "Not Found")


def test_fake_anthropic_refuses_thinking_over_an_unsigned_tool_turn(fake_anthropic) -> None:
    body = {"thinking": {"type": "enabled", "budget_tokens": 1024}, "messages": [
        {"role": "user", "content": "Weather?"},
        {"role": "assistant", "content": [aw.tool_use("toolu_1", "get_weather", {"city": "Paris"})]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_1", "content": "sunny"}]}]}
    refusal = aw.refuse_as_anthropic("/v1/messages", body)
    assert refusal is not None and refusal.status == 400
    assert refusal.json["error"]["type"] == "invalid_request_error"
    assert refusal.json["error"]["message"].startswith("messages.1.content.0.type: Expected `thinking`")
    body["messages"][1]["content"].insert(0, aw.thinking("Look it up.", "sig-1"))
    assert aw.refuse_as_anthropic("/v1/messages", body) is None


def test_chat_reasoning_effort_tool_loop_drops_thinking_without_a_signature(oai, fake_anthropic) -> None:
    fake_anthropic.script(aw.message([aw.text("Sunny in Paris.")]))
    reply = oai.chat.completions.create(
        model=VIA_ANTHROPIC, reasoning_effort="low", tools=[WEATHER], messages=[
            {"role": "user", "content": "Weather in Paris?"},
            {"role": "assistant", "content": None, "tool_calls": [
                {"id": "toolu_1", "type": "function",
                 "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'}}]},
            {"role": "tool", "tool_call_id": "toolu_1", "content": "sunny"}])
    assert reply.choices[0].message.content == "Sunny in Paris."
    sent = fake_anthropic.last.body
    assert "thinking" not in sent
    assert sent["messages"][1]["content"][0]["type"] == "tool_use"


def test_chat_reasoning_effort_new_user_turn_keeps_thinking(oai, fake_anthropic) -> None:
    fake_anthropic.script(aw.message([aw.thinking("Hm.", "sig-2"), aw.text("Rainy now.")]))
    oai.chat.completions.create(
        model=VIA_ANTHROPIC, reasoning_effort="low", tools=[WEATHER], messages=[
            {"role": "user", "content": "Weather in Paris?"},
            {"role": "assistant", "content": None, "tool_calls": [
                {"id": "toolu_1", "type": "function",
                 "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'}}]},
            {"role": "tool", "tool_call_id": "toolu_1", "content": "sunny"},
            {"role": "assistant", "content": "Sunny in Paris."},
            {"role": "user", "content": "And now?"}])
    assert fake_anthropic.last.body["thinking"] == {"type": "enabled", "budget_tokens": 1024}


def test_responses_reasoning_without_encrypted_content_drops_thinking(oai, fake_anthropic) -> None:
    fake_anthropic.script(aw.message([aw.text("Sunny.")]))
    response = oai.responses.create(
        model=VIA_ANTHROPIC, reasoning={"effort": "low"}, store=False,
        tools=[{"type": "function", "name": "get_weather", "parameters": WEATHER["function"]["parameters"]}],
        input=[{"role": "user", "content": "Weather in Paris?"},
               {"type": "reasoning", "id": "rs_1", "summary": [{"type": "summary_text", "text": "Look it up."}]},
               {"type": "function_call", "call_id": "toolu_1", "name": "get_weather",
                "arguments": '{"city": "Paris"}'},
               {"type": "function_call_output", "call_id": "toolu_1", "output": "sunny"}])
    assert response.output_text == "Sunny."
    assert "thinking" not in fake_anthropic.last.body


def test_messages_count_tokens_counts_locally_without_an_upstream_endpoint(claude, fake_anthropic) -> None:
    fake_anthropic.script(NOT_FOUND)
    counted = claude.messages.count_tokens(
        model=VIA_ANTHROPIC, system="Be brief.",
        messages=[{"role": "user", "content": "How many tokens is this sentence, roughly?"}])
    assert fake_anthropic.last.path == "/v1/messages/count_tokens"
    assert 10 <= counted.input_tokens <= 40


def test_messages_count_tokens_uses_the_upstream_count_when_it_has_one(claude, fake_anthropic) -> None:
    fake_anthropic.script(Reply({"input_tokens": 77}))
    counted = claude.messages.count_tokens(model=VIA_ANTHROPIC, messages=[{"role": "user", "content": "Hi"}])
    assert counted.input_tokens == 77


def test_messages_count_tokens_still_reports_other_upstream_failures(claude, fake_anthropic) -> None:
    import anthropic

    fake_anthropic.script(aw.error(529, "overloaded_error", "Overloaded"))
    with pytest.raises(anthropic.APIStatusError) as caught:
        claude.messages.count_tokens(model=VIA_ANTHROPIC, messages=[{"role": "user", "content": "Hi"}])
    assert caught.value.status_code == 503


@pytest.mark.parametrize("model", [VIA_OPENAI, VIA_RESPONSES, LOCAL])
def test_messages_count_tokens_on_other_backends(claude, fake_openai, model) -> None:
    short = claude.messages.count_tokens(model=model, messages=[{"role": "user", "content": "Hi"}])
    long = claude.messages.count_tokens(model=model, messages=[{"role": "user", "content": "Hi " * 50}])
    assert 0 < short.input_tokens < long.input_tokens
    assert fake_openai.received == []


def test_responses_input_tokens_count_locally_on_anthropic_without_endpoint(oai, fake_anthropic) -> None:
    fake_anthropic.script(NOT_FOUND)
    counted = oai.responses.input_tokens.count(model=VIA_ANTHROPIC, input="Count these few words, please.")
    assert counted.input_tokens > 5
