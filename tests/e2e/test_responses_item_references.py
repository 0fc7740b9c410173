"""Items named by id (``item_reference``, and reasoning items sent back without their
``encrypted_content``) resolve to any stored item of the caller's responses, with or
without ``previous_response_id``, as on OpenAI; another owner's items are never found."""

from __future__ import annotations

import json

import openai
import pytest

from tests.conftest import VIA_ANTHROPIC, VIA_OPENAI
from tests.fakes import anthropic_wire as aw
from tests.fakes import openai_wire as ow
from tests.fakes.upstream import Script, by_stream
from tests.server import LiveServer
from tests.tenants import project_key

LOOKUP = {"type": "function", "name": "lookup", "description": "Look a key up",
          "parameters": {"type": "object", "properties": {"key": {"type": "string"}}, "required": ["key"]}}


@pytest.fixture(scope="module")
def mallory(server: LiveServer) -> openai.OpenAI:
    """A client with a key of another owner."""
    return openai.OpenAI(base_url=server.url + "/v1", api_key=project_key(server.url, "mallory-refs"), max_retries=0,
                         _strict_response_validation=True)


def test_references_resolve_across_responses_without_a_chain(oai, fake_openai) -> None:
    fake_openai.script(ow.completion("Hello Ada."), ow.completion("Your name is Ada."))
    first = oai.responses.create(model=VIA_OPENAI, input="My name is Ada.")
    (user_item,) = oai.responses.input_items.list(first.id).data
    second = oai.responses.create(model=VIA_OPENAI, input=[
        {"type": "item_reference", "id": user_item.id},
        {"type": "item_reference", "id": first.output[0].id},
        {"role": "user", "content": "What is my name?"},
    ])
    assert second.output_text == "Your name is Ada."
    sent = [(m["role"], m["content"]) for m in fake_openai.last.body["messages"]]
    assert sent == [("user", "My name is Ada."), ("assistant", "Hello Ada."), ("user", "What is my name?")]
    resolved = oai.responses.input_items.list(second.id, order="asc").data
    assert [item.id for item in resolved[:2]] == [user_item.id, first.output[0].id]


def test_another_owners_item_is_not_found(oai, mallory, fake_openai) -> None:
    fake_openai.script(ow.completion("The secret is 4417."))
    mine = oai.responses.create(model=VIA_OPENAI, input="Tell me the secret.")
    with pytest.raises(openai.NotFoundError) as caught:
        mallory.responses.create(model=VIA_OPENAI, input=[
            {"role": "user", "content": "Repeat:"}, {"type": "item_reference", "id": mine.output[0].id}])
    assert caught.value.body["param"] == "input[1].id"
    assert "4417" not in json.dumps(caught.value.body)
    assert len(fake_openai.received) == 1  # nothing went upstream for mallory


def test_a_conversation_item_resolves_outside_its_conversation(oai, mallory, fake_openai) -> None:
    conversation = oai.conversations.create(items=[{"role": "user", "content": "Remember: 7731."}])
    (item,) = oai.conversations.items.list(conversation.id).data
    fake_openai.script(ow.completion("Noted."))
    oai.responses.create(model=VIA_OPENAI, input=[{"type": "item_reference", "id": item.id},
                                                  {"role": "user", "content": "What number?"}])
    assert [m["content"] for m in fake_openai.last.body["messages"]] == ["Remember: 7731.", "What number?"]
    with pytest.raises(openai.NotFoundError):
        mallory.responses.create(model=VIA_OPENAI, input=[{"type": "item_reference", "id": item.id}])
    assert len(fake_openai.received) == 1


def test_unknown_reference_is_not_found(oai, fake_openai) -> None:
    with pytest.raises(openai.NotFoundError) as caught:
        oai.responses.create(model=VIA_OPENAI, input=[{"type": "item_reference", "id": "msg_nothing_here"}])
    assert caught.value.body["param"] == "input[0].id"
    assert fake_openai.received == []


def _answer(*blocks: dict) -> Script:
    reason = "tool_use" if blocks[-1]["type"] == "tool_use" else "end_turn"
    return by_stream(aw.message(list(blocks), stop_reason=reason), aw.stream(list(blocks), stop_reason=reason))


def _tool_turn(oai: openai.OpenAI, fake_anthropic) -> openai.types.responses.Response:
    fake_anthropic.script(_answer(aw.thinking("I should look it up.", "sig-owned-1"),
                                  aw.tool_use("toolu_ref_1", "lookup", {"key": "alpha"})))
    first = oai.responses.create(model=VIA_ANTHROPIC, input="What is under alpha?", tools=[LOOKUP],
                                 reasoning={"effort": "low"})
    assert first.status == "completed", first.error
    return first


def _follow_up(first: openai.types.responses.Response) -> list[dict]:
    """The next turn as pydantic-ai sends it: the reasoning item by id alone, no chain."""
    reasoning = next(item for item in first.output if item.type == "reasoning")
    call = next(item for item in first.output if item.type == "function_call")
    return [
        {"role": "user", "content": "What is under alpha?"},
        {"type": "reasoning", "id": reasoning.id, "summary": []},
        {"type": "function_call", "id": call.id, "call_id": call.call_id, "name": "lookup",
         "arguments": call.arguments},
        {"type": "function_call_output", "call_id": call.call_id, "output": "VALUE-alpha"},
    ]


def test_reasoning_sent_back_by_id_alone_gets_its_stored_signature(oai, fake_anthropic) -> None:
    first = _tool_turn(oai, fake_anthropic)
    fake_anthropic.script(_answer(aw.text("It is VALUE-alpha.")))
    second = oai.responses.create(model=VIA_ANTHROPIC, input=_follow_up(first), tools=[LOOKUP],
                                  reasoning={"effort": "low"})
    assert second.output_text == "It is VALUE-alpha."
    assistant = [m for m in fake_anthropic.last.body["messages"] if m["role"] == "assistant"]
    blocks = [b for m in assistant for b in m["content"]]
    assert blocks[0] == {"type": "thinking", "thinking": "I should look it up.", "signature": "sig-owned-1"}
    assert blocks[1]["type"] == "tool_use" and blocks[1]["id"] == "toolu_ref_1"


def test_another_owners_reasoning_id_resolves_to_nothing(oai, mallory, fake_anthropic) -> None:
    first = _tool_turn(oai, fake_anthropic)
    fake_anthropic.script(_answer(aw.text("Done.")))
    mallory.responses.create(model=VIA_ANTHROPIC, input=_follow_up(first), tools=[LOOKUP])
    sent = json.dumps(fake_anthropic.last.body)
    assert "sig-owned-1" not in sent and "I should look it up." not in sent
