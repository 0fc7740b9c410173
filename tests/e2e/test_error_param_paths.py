"""An image or file a model cannot take is refused naming the client's own field, however
the conversation was reshaped inside (system prompts lifted out, tool calls split into
items of their own, tool results pulled out of a user turn, history put in front)."""

from __future__ import annotations

from typing import Any

import anthropic
import openai
import pytest

from tests.conftest import LOCAL, VIA_OPENAI

PNG = "iVBORw0KGgo="
PDF = "JVBERi0xLjQK"
CHAT_IMAGE = {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG}"}}
CHAT_FILE = {"type": "file", "file": {"file_data": f"data:application/pdf;base64,{PDF}",
                                      "filename": "a.pdf"}}
TEXT = {"type": "text", "text": "What is this?"}
CLAUDE_IMAGE = {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": PNG}}

TOOL_TURNS: list[dict[str, Any]] = [
    {"role": "user", "content": "Weather in Paris and Rome?"},
    {"role": "assistant", "content": None, "tool_calls": [
        {"id": "call_1", "type": "function", "function": {"name": "weather", "arguments": "{\"city\":\"Paris\"}"}},
        {"id": "call_2", "type": "function", "function": {"name": "weather", "arguments": "{\"city\":\"Rome\"}"}},
    ]},
    {"role": "tool", "tool_call_id": "call_1", "content": "sunny"},
    {"role": "tool", "tool_call_id": "call_2", "content": "rainy"},
]


def _chat_refusal(oai: openai.OpenAI, messages: list[dict[str, Any]], model: str = LOCAL) -> dict[str, Any]:
    with pytest.raises(openai.BadRequestError) as caught:
        oai.chat.completions.create(model=model, messages=messages)  # type: ignore[arg-type]
    assert caught.value.status_code == 400
    return caught.value.body  # type: ignore[return-value]


@pytest.mark.parametrize(("messages", "param", "why"), [
    ([{"role": "system", "content": "Be brief."}, {"role": "user", "content": [TEXT, CHAT_IMAGE]}],
     "messages[1].content[1]", "this model cannot read images"),
    ([*TOOL_TURNS, {"role": "user", "content": [TEXT, CHAT_IMAGE]}],
     "messages[4].content[1]", "this model cannot read images"),
    ([{"role": "developer", "content": "Be brief."}, *TOOL_TURNS, {"role": "user", "content": [CHAT_FILE, TEXT]}],
     "messages[5].content[0]", "this model cannot read files"),
], ids=["after-system", "after-tool-calls", "file-after-tool-calls"])
def test_chat_refusal_names_the_clients_message_and_part(
    oai: openai.OpenAI, messages: list[dict[str, Any]], param: str, why: str
) -> None:
    error = _chat_refusal(oai, messages)
    assert error["param"] == param
    assert error["code"] == "unsupported_parameter" and error["type"] == "invalid_request_error"
    assert error["message"] == f"'{param}' is not supported: {why}"


def _claude_refusal(claude: anthropic.Anthropic, **kwargs: Any) -> str:
    with pytest.raises(anthropic.BadRequestError) as caught:
        claude.messages.create(max_tokens=16, **kwargs)
    body = caught.value.body
    assert isinstance(body, dict) and body["type"] == "error"
    assert body["error"]["type"] == "invalid_request_error"
    return body["error"]["message"]


def test_anthropic_refusal_after_a_system_prompt_names_messages_0(claude: anthropic.Anthropic) -> None:
    message = _claude_refusal(claude, model=LOCAL, system="Be brief.",
                              messages=[{"role": "user", "content": [TEXT, CLAUDE_IMAGE]}])
    assert message == "'messages[0].content[1]' is not supported: this model cannot read images"


TOOL_EXCHANGE: list[dict[str, Any]] = [
    {"role": "user", "content": "Weather in Paris?"},
    {"role": "assistant", "content": [
        {"type": "text", "text": "Checking."},
        {"type": "tool_use", "id": "toolu_1", "name": "weather", "input": {"city": "Paris"}},
    ]},
]


def test_anthropic_refusal_after_a_tool_result_names_the_block(claude: anthropic.Anthropic) -> None:
    turn = {"role": "user", "content": [
        {"type": "tool_result", "tool_use_id": "toolu_1", "content": "sunny"}, TEXT, CLAUDE_IMAGE]}
    message = _claude_refusal(claude, model=LOCAL, system="Be brief.", messages=[*TOOL_EXCHANGE, turn])
    assert message == "'messages[2].content[2]' is not supported: this model cannot read images"


def test_anthropic_image_inside_a_tool_result_names_its_nested_path(claude: anthropic.Anthropic) -> None:
    turn = {"role": "user", "content": [
        {"type": "tool_result", "tool_use_id": "toolu_1", "content": [TEXT, CLAUDE_IMAGE]}]}
    message = _claude_refusal(claude, model=LOCAL, system="Be brief.", messages=[*TOOL_EXCHANGE, turn])
    assert message == "'messages[2].content[0].content[1]' is not supported: this model cannot read images"


def test_anthropic_document_url_to_a_chat_upstream_names_the_block(claude: anthropic.Anthropic) -> None:
    document = {"type": "document", "source": {"type": "url", "url": "https://example.com/a.pdf"}}
    message = _claude_refusal(claude, model=VIA_OPENAI, system="Be brief.",
                              messages=[{"role": "user", "content": [TEXT, document]}])
    assert message == ("'messages[0].content[1]' is not supported: files given by URL cannot be sent "
                       "to a chat completions upstream")


def test_responses_file_refusal_names_the_input_path(oai: openai.OpenAI) -> None:
    file_part = {"type": "input_file", "filename": "a.pdf", "file_data": f"data:application/pdf;base64,{PDF}"}
    with pytest.raises(openai.BadRequestError) as caught:
        oai.responses.create(model=LOCAL, instructions="Be brief.", input=[  # type: ignore[list-item]
            {"type": "message", "role": "user", "content": "hello"},
            {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "Read it."}, file_part]},
        ])
    error: dict[str, Any] = caught.value.body  # type: ignore[assignment]
    assert error["param"] == "input[1].content[1]"
    assert error["message"] == "'input[1].content[1]' is not supported: this model cannot read files"


def test_chat_stream_refusal_names_the_clients_part(oai: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        oai.chat.completions.create(model=LOCAL, stream=True,  # type: ignore[call-overload]
                                    messages=[*TOOL_TURNS, {"role": "user", "content": [TEXT, CHAT_IMAGE]}])
    assert caught.value.body["param"] == "messages[4].content[1]"  # type: ignore[index]


def test_anthropic_token_count_refusal_names_the_block(claude: anthropic.Anthropic) -> None:
    with pytest.raises(anthropic.BadRequestError) as caught:
        claude.messages.count_tokens(model=LOCAL, system="Be brief.",
                                     messages=[{"role": "user", "content": [TEXT, CLAUDE_IMAGE]}])
    body = caught.value.body
    assert isinstance(body, dict) and body["type"] == "error"
    assert body["error"]["message"] == "'messages[0].content[1]' is not supported: this model cannot read images"
