"""An upstream that itself speaks the Responses API: used statelessly, with
Switchyard keeping the state, and reachable from every surface."""

from __future__ import annotations

import json

from tests.conftest import VIA_RESPONSES
from tests.e2e.responses_stream_validator import check_stream
from tests.fakes import responses_wire as rw

TOOL = {"type": "function", "name": "lookup", "description": "Look a word up",
        "parameters": {"type": "object", "properties": {"word": {"type": "string"}}, "required": ["word"],
                       "additionalProperties": False}, "strict": True}


def test_state_stays_here_and_the_upstream_gets_full_context(oai, fake_openai) -> None:
    fake_openai.script(rw.reply(rw.reasoning("thinking", "enc-blob-1"), rw.message("Hi Ada.")),
                       rw.reply(rw.message("You are Ada.")))
    first = oai.responses.create(model=VIA_RESPONSES, input="I am Ada.", instructions="Be brief.",
                                 reasoning={"effort": "low"})
    assert first.output_text == "Hi Ada." and first.output[0].type == "reasoning"
    sent = fake_openai.last
    assert sent.path == "/v1/responses"
    assert sent.body["store"] is False and sent.body["include"] == ["reasoning.encrypted_content"]
    assert sent.body["reasoning"]["effort"] == "low"
    assert sent.body["input"][0] == {"role": "developer", "content": [{"type": "input_text", "text": "Be brief."}]}
    second = oai.responses.create(model=VIA_RESPONSES, input="Who am I?", previous_response_id=first.id)
    assert second.output_text == "You are Ada."
    replayed = fake_openai.last.body["input"]
    assert [i.get("type", "message") for i in replayed] == ["message", "reasoning", "message", "message"]
    assert replayed[1]["encrypted_content"] == "enc-blob-1"
    assert replayed[2] == {"role": "assistant", "content": "Hi Ada."}


def test_streamed_function_call_through_chat_and_responses_clients(oai, fake_openai) -> None:
    fake_openai.script(rw.stream(rw.function_call("call_1", "lookup", '{"word": "gateway"}')),
                       rw.stream(rw.message("A gateway relays.")))
    events = []
    with oai.responses.stream(model=VIA_RESPONSES, input="Define gateway", tools=[TOOL]) as stream:
        for event in stream:
            events.append(event.model_dump(mode="json", exclude_unset=True))
        final = stream.get_final_response()
    check_stream(events)
    call = final.output[0]
    assert call.type == "function_call" and json.loads(call.arguments) == {"word": "gateway"}
    assert fake_openai.last.body["tools"][0]["name"] == "lookup" and fake_openai.last.body["stream"] is True
    with oai.chat.completions.stream(model=VIA_RESPONSES,
                                     messages=[{"role": "user", "content": "Define gateway"}]) as chat:
        text = chat.get_final_completion().choices[0].message.content
    assert text == "A gateway relays."


def test_messages_client_on_a_responses_upstream(claude, fake_openai) -> None:
    fake_openai.script(rw.stream(rw.message("Bonjour")))
    with claude.messages.stream(model=VIA_RESPONSES, max_tokens=50,
                                messages=[{"role": "user", "content": "Say hi in French"}]) as stream:
        final = stream.get_final_message()
    assert final.content[0].text == "Bonjour" and final.stop_reason == "end_turn"
    assert final.usage.input_tokens == 17 and final.usage.cache_read_input_tokens == 4
