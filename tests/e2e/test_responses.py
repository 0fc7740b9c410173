"""The Responses API through the official SDK: state, chains, forks, streams,
function calls and errors, over scripted upstreams of both vendors."""

from __future__ import annotations

import json

import openai
import pytest

from tests.conftest import VIA_ANTHROPIC, VIA_OPENAI
from tests.e2e.responses_stream_validator import check_stream
from tests.fakes import anthropic_wire as aw
from tests.fakes import openai_wire as ow
from tests.server import MASTER_KEY
from tests.spec import validate_openai
from tests.tenants import project_key

WEATHER = {"type": "function", "name": "get_weather", "description": "Weather for a city",
           "parameters": {"type": "object", "properties": {"city": {"type": "string"}},
                          "required": ["city"], "additionalProperties": False},
           "strict": True}



def test_create_retrieve_input_items_delete(oai, fake_openai) -> None:
    fake_openai.script(ow.completion("Hello, Ada."))
    created = oai.responses.create(model=VIA_OPENAI, input="My name is Ada.", instructions="Be kind.",
                                   metadata={"topic": "names"}, temperature=0.3)
    assert created.status == "completed" and created.output_text == "Hello, Ada."
    assert created.id.startswith("resp_") and created.instructions == "Be kind."
    assert created.metadata == {"topic": "names"} and created.temperature == 0.3
    assert created.usage.input_tokens == 11 and created.usage.output_tokens == 7
    assert ow.sent_texts(fake_openai.last.body) == [("system", "Be kind."), ("user", "My name is Ada.")]
    fetched = oai.responses.retrieve(created.id)
    assert fetched.model_dump() == created.model_dump()
    items = oai.responses.input_items.list(created.id)
    assert [i.type for i in items.data] == ["message"]
    assert items.data[0].content[0].text == "My name is Ada."
    oai.responses.delete(created.id)
    with pytest.raises(openai.NotFoundError):
        oai.responses.retrieve(created.id)


def test_raw_body_matches_the_spec(server, fake_openai) -> None:
    from tests.e2e.raw import post

    fake_openai.script(ow.completion("ok"))
    response = post(server, "/v1/responses", {"model": VIA_OPENAI, "input": "hi"})
    assert response.status_code == 200
    body = response.json()
    validate_openai(body, "Response")
    assert "output_text" not in body


def test_previous_response_id_chains_and_forks(oai, fake_openai) -> None:
    fake_openai.script(ow.completion("Noted: Ada."), ow.completion("Your name is Ada."),
                       ow.completion("You said Ada."))
    first = oai.responses.create(model=VIA_OPENAI, input="My name is Ada.", instructions="Only for turn one.")
    second = oai.responses.create(model=VIA_OPENAI, input="What is my name?", previous_response_id=first.id)
    assert second.previous_response_id == first.id
    assert ow.sent_texts(fake_openai.last.body) == [
        ("user", "My name is Ada."), ("assistant", "Noted: Ada."), ("user", "What is my name?")]
    fork = oai.responses.create(model=VIA_OPENAI, input="Repeat my name.", previous_response_id=first.id)
    assert ow.sent_texts(fake_openai.last.body) == [
        ("user", "My name is Ada."), ("assistant", "Noted: Ada."), ("user", "Repeat my name.")]
    assert fork.output_text == "You said Ada."


def test_store_false_keeps_nothing(oai, fake_openai) -> None:
    fake_openai.script(ow.completion("ephemeral"))
    created = oai.responses.create(model=VIA_OPENAI, input="x", store=False)
    assert created.store is False and created.output_text == "ephemeral"
    with pytest.raises(openai.NotFoundError):
        oai.responses.retrieve(created.id)
    with pytest.raises(openai.BadRequestError) as caught:
        oai.responses.create(model=VIA_OPENAI, input="y", previous_response_id=created.id)
    assert caught.value.body["code"] == "previous_response_not_found"


@pytest.mark.parametrize("model", [VIA_OPENAI, VIA_ANTHROPIC])
def test_stream_helper_and_event_consistency(oai, server, fake_openai, fake_anthropic, model) -> None:
    if model == VIA_OPENAI:
        fake_openai.script(ow.stream(["Hel", "lo ", "there"]))
    else:
        fake_anthropic.script(aw.stream([aw.thinking("Greet them.", "sig-9"), aw.text("Hello there")]))
    events = []
    with oai.responses.stream(model=model, input="Say hello") as stream:
        for event in stream:
            events.append(event.model_dump(mode="json", exclude_unset=True))
        final = stream.get_final_response()
    assert final.output_text == "Hello there"
    assert final.status == "completed"
    check_stream(events)
    types = [e["type"] for e in events]
    assert types[:2] == ["response.created", "response.in_progress"]
    assert "response.output_text.delta" in types and types[-1] == "response.completed"
    if model == VIA_ANTHROPIC:
        assert final.output[0].type == "reasoning"


def test_function_call_round_trip(oai, fake_openai) -> None:
    fake_openai.script(ow.completion(None, tool_calls=[("call_1", "get_weather", '{"city": "Paris"}')],
                                     finish_reason="tool_calls"),
                       ow.completion("It is sunny in Paris."))
    first = oai.responses.create(model=VIA_OPENAI, input="Weather in Paris?", tools=[WEATHER])
    call = next(i for i in first.output if i.type == "function_call")
    assert call.name == "get_weather" and json.loads(call.arguments) == {"city": "Paris"}
    assert call.call_id == "call_1" and call.id.startswith("fc")
    sent_tool = fake_openai.last.body["tools"][0]["function"]
    assert sent_tool["name"] == "get_weather" and sent_tool["strict"] is True
    second = oai.responses.create(model=VIA_OPENAI, previous_response_id=first.id, tools=[WEATHER],
                                  input=[{"type": "function_call_output", "call_id": "call_1",
                                          "output": "sunny, 24C"}])
    assert second.output_text == "It is sunny in Paris."
    messages = fake_openai.last.body["messages"]
    assert messages[1]["tool_calls"][0]["id"] == "call_1"
    assert messages[2] == {"role": "tool", "tool_call_id": "call_1", "content": "sunny, 24C"}


def test_reasoning_signature_survives_a_stored_chain(oai, fake_anthropic) -> None:
    fake_anthropic.script(aw.message([aw.thinking("Plan: call it.", "sig-keep"),
                                      aw.tool_use("toolu_5", "get_weather", {"city": "Oslo"})],
                                     stop_reason="tool_use"),
                          aw.message([aw.text("Cold.")]))
    first = oai.responses.create(model=VIA_ANTHROPIC, input="Oslo?", tools=[WEATHER],
                                 reasoning={"effort": "low"}, max_output_tokens=4000)
    assert [i.type for i in first.output] == ["reasoning", "function_call"]
    oai.responses.create(model=VIA_ANTHROPIC, previous_response_id=first.id, tools=[WEATHER],
                         reasoning={"effort": "low"}, max_output_tokens=4000,
                         input=[{"type": "function_call_output", "call_id": "toolu_5", "output": "-3C"}])
    assistant = fake_anthropic.last.body["messages"][1]
    assert assistant["content"][0] == {"type": "thinking", "thinking": "Plan: call it.", "signature": "sig-keep"}


def test_conversations_accumulate_items(oai, fake_openai) -> None:
    conversation = oai.conversations.create(metadata={"user": "ada"},
                                            items=[{"type": "message", "role": "user", "content": "I am Ada."}])
    assert conversation.metadata == {"user": "ada"}
    fake_openai.script(ow.completion("Hi Ada."), ow.completion("You are Ada."))
    oai.responses.create(model=VIA_OPENAI, conversation=conversation.id, input="Hello!")
    second = oai.responses.create(model=VIA_OPENAI, conversation=conversation.id, input="Who am I?")
    assert second.conversation.id == conversation.id
    assert ow.sent_texts(fake_openai.last.body) == [
        ("user", "I am Ada."), ("user", "Hello!"), ("assistant", "Hi Ada."), ("user", "Who am I?")]
    items = oai.conversations.items.list(conversation.id, order="asc")
    assert [i.type for i in items.data] == ["message"] * 5
    assert items.data[-1].content[0].text == "You are Ada."
    one = oai.conversations.items.retrieve(items.data[0].id, conversation_id=conversation.id)
    assert one.id == items.data[0].id
    oai.conversations.items.delete(items.data[0].id, conversation_id=conversation.id)
    assert len(oai.conversations.items.list(conversation.id).data) == 4
    updated = oai.conversations.update(conversation.id, metadata={"user": "ada", "v": "2"})
    assert updated.metadata == {"user": "ada", "v": "2"}
    oai.conversations.delete(conversation.id)
    with pytest.raises(openai.NotFoundError):
        oai.conversations.retrieve(conversation.id)


def test_bad_requests_name_the_field(oai) -> None:
    cases = [
        ({"model": VIA_OPENAI, "input": 42}, "input"),
        ({"model": VIA_OPENAI, "input": "x", "tools": [{"type": "computer_use_preview", "display_width": 1024,
                                                       "display_height": 768, "environment": "linux"}]},
         "tools[0].type"),
        ({"model": VIA_OPENAI, "input": "x", "temperature": "warm"}, "temperature"),
        ({"model": VIA_OPENAI, "input": "x", "background": True, "store": False}, "background"),
    ]
    for body, param in cases:
        with pytest.raises(openai.BadRequestError) as caught:
            oai.post("/responses", body=body, cast_to=object)
        assert caught.value.body["param"] == param, (body, caught.value.body)


def _previous_not_found(client: openai.OpenAI, response_id: str, *, stream: bool = False) -> dict:
    with pytest.raises(openai.BadRequestError) as caught:
        client.responses.create(model=VIA_OPENAI, input="x", previous_response_id=response_id, stream=stream)
    return caught.value.body


def test_unknown_previous_response_is_previous_response_not_found(oai, fake_openai) -> None:
    """OpenAI's answer: a 400 invalid_request_error naming the field, whole or streamed."""
    for stream in (False, True):
        body = _previous_not_found(oai, "resp_nope", stream=stream)
        assert body == {"message": "Previous response with id 'resp_nope' not found.",
                        "type": "invalid_request_error", "param": "previous_response_id",
                        "code": "previous_response_not_found"}
    assert fake_openai.received == []


def test_unknown_conversation_is_a_404_naming_it(oai, fake_openai) -> None:
    with pytest.raises(openai.NotFoundError) as caught:
        oai.responses.create(model=VIA_OPENAI, input="x", conversation="conv_nope")
    assert caught.value.body["param"] == "conversation" and "conv_nope" in caught.value.body["message"]
    assert fake_openai.received == []


def test_another_owner_sees_404(oai, server, fake_openai) -> None:
    fake_openai.script(ow.completion("private"))
    mine = oai.responses.create(model=VIA_OPENAI, input="secret")
    other = openai.OpenAI(base_url=server.url + "/v1", api_key=project_key(server.url, "mallory"), max_retries=0)
    with pytest.raises(openai.NotFoundError):
        other.responses.retrieve(mine.id)
    with pytest.raises(openai.NotFoundError):
        other.responses.input_items.list(mine.id)
    with pytest.raises(openai.NotFoundError):
        other.responses.delete(mine.id)
    unknown = _previous_not_found(other, "resp_nope")
    theirs = _previous_not_found(other, mine.id)
    assert theirs == {**unknown, "message": f"Previous response with id '{mine.id}' not found."}
    assert len(fake_openai.received) == 1
    assert oai.responses.retrieve(mine.id).output_text == "private"
    assert MASTER_KEY


def test_input_tokens_counts(oai) -> None:
    short = oai.responses.input_tokens.count(model=VIA_OPENAI, input="hi")
    longer = oai.responses.input_tokens.count(model=VIA_OPENAI, input="hi " * 100, instructions="Be brief.")
    assert 0 < short.input_tokens < longer.input_tokens
    assert short.object == "response.input_tokens"


def test_upstream_failure_mid_stream_fails_the_response(oai, fake_openai) -> None:
    fake_openai.script(ow.stream(["one ", "two ", "three"], drop_after=3))
    events = []
    with oai.responses.stream(model=VIA_OPENAI, input="count") as stream:
        for event in stream:
            events.append(event.model_dump(mode="json", exclude_unset=True))
    assert events[-1]["type"] == "response.failed"
    failed = events[-1]["response"]
    assert failed["status"] == "failed" and failed["error"]["message"]
    check_stream(events)
    assert oai.responses.retrieve(failed["id"]).status == "failed"


def test_upstream_refusal_before_the_first_event_is_an_http_error(oai, fake_openai) -> None:
    fake_openai.script(ow.error(429, "slow down", type_="rate_limit_error", headers={"retry-after": "2"}))
    with pytest.raises(openai.RateLimitError) as caught:
        oai.responses.create(model=VIA_OPENAI, input="x", stream=True)
    assert caught.value.response.headers["retry-after"] == "2"
