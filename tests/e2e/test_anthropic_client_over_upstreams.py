"""The Anthropic SDK against Switchyard, relayed to both kinds of scripted upstream."""

from __future__ import annotations

import json

import anthropic
import orjson
import pytest

from tests.conftest import VIA_ANTHROPIC, VIA_OPENAI
from tests.e2e.raw import post, sse
from tests.fakes import anthropic_wire as aw
from tests.fakes import openai_wire as ow
from tests.spec_anthropic import validate_anthropic

READ_TOOL = {
    "name": "read_file",
    "description": "Read a file",
    "input_schema": {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "properties": {"path": {"type": "string"},
                       "limit": {"type": "integer", "exclusiveMinimum": 0, "maximum": 9007199254740991}},
        "required": ["path"],
        "additionalProperties": False,
    },
}


def test_messages_to_openai_upstream(claude, fake_openai) -> None:
    fake_openai.script(ow.completion("Hello from GPT", use=ow.usage(prompt=40, completion=4, cached=10)))
    message = claude.messages.create(
        model=VIA_OPENAI, max_tokens=100, system=[{"type": "text", "text": "Be kind.",
                                                   "cache_control": {"type": "ephemeral"}}],
        messages=[{"role": "user", "content": "Hi"}], metadata={"user_id": "user-7"},
        stop_sequences=["STOP"],
    )
    assert message.content[0].type == "text" and message.content[0].text == "Hello from GPT"
    assert message.stop_reason == "end_turn"
    assert message.model == VIA_OPENAI
    assert message.usage.input_tokens == 30 and message.usage.cache_read_input_tokens == 10
    assert message.usage.output_tokens == 4
    sent = fake_openai.last.body
    assert sent["messages"][0] == {"role": "system", "content": "Be kind."}
    assert sent["messages"][1]["role"] == "user"
    assert sent["user"] == "user-7"
    assert sent["stop"] == ["STOP"]
    assert sent["max_tokens"] == 100


def test_messages_stream_tool_use_from_openai_upstream(claude, fake_openai) -> None:
    fake_openai.script(ow.stream(["Reading."], tool_calls=[("call_7", "read_file",
                                                              ['{"pa', 'th": "/tmp/', 'a.txt"}'])]))
    json_deltas = 0
    with claude.messages.stream(model=VIA_OPENAI, max_tokens=200, tools=[READ_TOOL],
                                messages=[{"role": "user", "content": "Read /tmp/a.txt"}]) as stream:
        for event in stream:
            if event.type == "input_json":
                json_deltas += 1
        final = stream.get_final_message()
    assert final.stop_reason == "tool_use"
    assert final.content[0].type == "text" and final.content[0].text == "Reading."
    tool = final.content[1]
    assert tool.type == "tool_use" and tool.name == "read_file" and tool.id == "call_7"
    assert tool.input == {"path": "/tmp/a.txt"}
    assert json_deltas >= 2
    sent_tool = fake_openai.last.body["tools"][0]
    assert sent_tool["type"] == "function" and sent_tool["function"]["name"] == "read_file"
    assert sent_tool["function"]["parameters"]["required"] == ["path"]


def test_thinking_round_trips_with_signature(claude, fake_anthropic) -> None:
    fake_anthropic.script(aw.stream([aw.thinking("First, the file.", "sig-123"),
                                     aw.tool_use("toolu_1", "read_file", {"path": "a.txt"})]),
                          aw.message([aw.text("It says hello.")]))
    with claude.messages.stream(model=VIA_ANTHROPIC, max_tokens=2000, tools=[READ_TOOL],
                                thinking={"type": "enabled", "budget_tokens": 1024},
                                messages=[{"role": "user", "content": "What is in a.txt?"}]) as stream:
        first = stream.get_final_message()
    assert [b.type for b in first.content] == ["thinking", "tool_use"]
    assert first.content[0].signature == "sig-123"
    second = claude.messages.create(
        model=VIA_ANTHROPIC, max_tokens=2000, tools=[READ_TOOL],
        thinking={"type": "enabled", "budget_tokens": 1024},
        messages=[{"role": "user", "content": "What is in a.txt?"},
                  {"role": "assistant", "content": [b.model_dump(exclude_none=True) for b in first.content]},
                  {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_1",
                                                "content": "hello", "is_error": False}]}])
    assert second.content[0].text == "It says hello."
    sent = fake_anthropic.received[-1].body
    assert sent["thinking"] == {"type": "enabled", "budget_tokens": 1024}
    blocks = sent["messages"][1]["content"]
    assert blocks[0] == {"type": "thinking", "thinking": "First, the file.", "signature": "sig-123"}
    assert blocks[1]["type"] == "tool_use" and blocks[1]["input"] == {"path": "a.txt"}
    assert sent["messages"][2]["content"][0]["tool_use_id"] == "toolu_1"


def test_reasoning_content_from_openai_upstream_becomes_thinking(claude, fake_openai) -> None:
    fake_openai.script(ow.stream(["42"], reasoning=["Six ", "times seven."]))
    with claude.messages.stream(model=VIA_OPENAI, max_tokens=500,
                                thinking={"type": "enabled", "budget_tokens": 1024},
                                messages=[{"role": "user", "content": "6*7?"}]) as stream:
        final = stream.get_final_message()
    assert final.content[0].type == "thinking"
    assert final.content[0].thinking == "Six times seven."
    assert final.content[-1].type == "text" and final.content[-1].text == "42"
    assert fake_openai.last.body.get("reasoning_effort")


@pytest.mark.parametrize("model", [VIA_OPENAI, VIA_ANTHROPIC])
def test_stream_events_match_the_spec(server, fake_openai, fake_anthropic, model) -> None:
    if model == VIA_OPENAI:
        fake_openai.script(ow.stream(["Hel", "lo"], tool_calls=[("call_1", "read_file", ['{"path":', '"x"}'])]))
    else:
        fake_anthropic.script(aw.stream([aw.text("Hello"), aw.tool_use("toolu_1", "read_file", {"path": "x"})]))
    frames = sse(server, "/v1/messages", {"model": model, "max_tokens": 100, "stream": True,
                                          "tools": [READ_TOOL],
                                          "messages": [{"role": "user", "content": "hi"}]},
                 headers={"anthropic-version": "2023-06-01"})
    names = [name for name, _ in frames]
    assert names[0] == "message_start" and names[-2:] == ["message_delta", "message_stop"]
    schema_of = {"message_start": "MessageStartEvent", "content_block_start": "ContentBlockStartEvent",
                 "content_block_delta": "ContentBlockDeltaEvent", "content_block_stop": "ContentBlockStopEvent",
                 "message_delta": "MessageDeltaEvent", "message_stop": "MessageStopEvent",
                 "ping": "PingEvent"}
    for name, data in frames:
        event = orjson.loads(data)
        assert event["type"] == name
        validate_anthropic(event, schema_of[name])
    deltas = [orjson.loads(d) for n, d in frames if n == "content_block_delta"]
    assert "".join(d["delta"].get("text", "") for d in deltas) == "Hello"
    assert json.loads("".join(d["delta"].get("partial_json", "") for d in deltas)) == {"path": "x"}
    stop = orjson.loads(frames[-2][1])
    assert stop["delta"]["stop_reason"] == "tool_use"


def test_non_stream_body_matches_the_spec(server, fake_openai) -> None:
    fake_openai.script(ow.completion("ok", finish_reason="length"))
    response = post(server, "/v1/messages", {"model": VIA_OPENAI, "max_tokens": 5,
                                             "messages": [{"role": "user", "content": "hi"}]},
                    headers={"anthropic-version": "2023-06-01"})
    assert response.status_code == 200
    body = response.json()
    validate_anthropic(body, "Message")
    assert body["stop_reason"] == "max_tokens"
    assert body["id"].startswith("msg_")


@pytest.mark.parametrize(("status", "expected_status", "expected_type"), [
    (429, 429, "rate_limit_error"), (529, 503, "overloaded_error"), (500, 502, "api_error")])
def test_upstream_errors_in_anthropic_shape(claude, fake_anthropic, status, expected_status,
                                            expected_type) -> None:
    fake_anthropic.script(aw.error(status, "overloaded_error" if status == 529 else "api_error", "nope"))
    with pytest.raises(anthropic.APIStatusError) as caught:
        claude.messages.create(model=VIA_ANTHROPIC, max_tokens=10,
                               messages=[{"role": "user", "content": "x"}])
    assert caught.value.status_code == expected_status
    assert caught.value.body["type"] == "error"
    assert caught.value.body["error"]["type"] == expected_type


def test_upstream_error_mid_stream_is_an_error_event(server, fake_anthropic) -> None:
    fake_anthropic.script(aw.stream([aw.text("Hello there")], error_after=4))
    frames = sse(server, "/v1/messages", {"model": VIA_ANTHROPIC, "max_tokens": 100, "stream": True,
                                          "messages": [{"role": "user", "content": "hi"}]})
    assert frames[-1][0] == "error"
    error = orjson.loads(frames[-1][1])
    assert error["type"] == "error" and error["error"]["type"] == "overloaded_error"
    assert "message_stop" not in [n for n, _ in frames]


def test_count_tokens_relays_to_anthropic_and_estimates_for_openai(claude, fake_anthropic) -> None:
    from tests.fakes.upstream import Reply

    fake_anthropic.script(Reply({"input_tokens": 123}))
    counted = claude.messages.count_tokens(model=VIA_ANTHROPIC,
                                           messages=[{"role": "user", "content": "hello"}])
    assert counted.input_tokens == 123
    assert fake_anthropic.last.path == "/v1/messages/count_tokens"
    estimated = claude.messages.count_tokens(model=VIA_OPENAI, messages=[
        {"role": "user", "content": "hello world, this is a longer sentence to count"}])
    assert 8 <= estimated.input_tokens <= 40


def test_claude_code_shaped_request_is_accepted(server, fake_anthropic) -> None:
    fake_anthropic.script(aw.stream([aw.text("done")]))
    body = {
        "model": "claude-haiku-4-5-20251001", "max_tokens": 64000, "stream": True,
        "system": [{"type": "text", "text": "You are Claude Code.", "cache_control": {"type": "ephemeral"}}],
        "messages": [{"role": "user", "content": [{"type": "text", "text": "hi",
                                                   "cache_control": {"type": "ephemeral"}}]},
                     {"role": "system", "content": "Reminder: be terse."}],
        "tools": [READ_TOOL], "metadata": {"user_id": json.dumps({"session": "abc"})},
        "thinking": {"type": "adaptive"}, "output_config": {"effort": "medium"},
        "context_management": {"edits": [{"type": "clear_thinking_20251015"}]},
    }
    frames = sse(server, "/v1/messages?beta=true", body,
                 headers={"anthropic-version": "2023-06-01", "anthropic-beta": "claude-code-20250219",
                          "x-app": "cli"})
    assert frames[-1][0] == "message_stop"
    assert frames[0][0] == "message_start"
    # claude-haiku-* is an alias of the Anthropic upstream model in the test config
    sent = fake_anthropic.last.body
    assert sent["model"] == "claude-upstream"
    assert sent["system"][0]["cache_control"] == {"type": "ephemeral"}
    assert "Reminder: be terse." in json.dumps(sent["messages"])
    assert sent["tools"][0]["input_schema"]["required"] == ["path"]
