"""Keeping context small: /v1/responses/compact and truncation "auto"; and the
Responses API on the embedded model."""

from __future__ import annotations

import json

import openai
import pytest

from tests.conftest import LOCAL, VIA_OPENAI
from tests.fakes import openai_wire as ow
from tests.spec import validate_openai


def test_compact_then_continue_from_the_compacted_items(oai, server, fake_openai) -> None:
    fake_openai.script(ow.completion("Noted, Ada likes tea."), ow.completion("Ada: likes tea; asked about names."),
                       ow.completion("You like tea."))
    first = oai.responses.create(model=VIA_OPENAI, input="I am Ada and I like tea.")
    # The compacted output starts with the user messages, as the spec (and OpenAI) has it; the SDK's
    # own CompactedResponse type only admits assistant messages, so strict validation would refuse
    # OpenAI's answer too: read it with the SDK's default (non-strict) client and check the spec.
    lenient = openai.OpenAI(base_url=server.url + "/v1", api_key=oai.api_key, max_retries=0)
    raw = lenient.responses.with_raw_response.compact(model=VIA_OPENAI, previous_response_id=first.id,
                                                      input="What do I like?")
    validate_openai(raw.http_response.json(), "CompactResource")
    compacted = raw.parse()
    assert compacted.object == "response.compaction"
    kinds = [item.type for item in compacted.output]
    assert kinds == ["message", "message", "compaction"]
    assert [m.content[0].text for m in compacted.output[:2]] == ["I am Ada and I like tea.", "What do I like?"]
    summary_request = fake_openai.last.body["messages"]
    assert summary_request[-1]["role"] == "user" and "Summarize" in summary_request[-1]["content"]
    assert "tools" not in fake_openai.last.body
    follow = oai.responses.create(model=VIA_OPENAI, input=[
        *[item.model_dump(exclude_none=True) for item in compacted.output],
        {"role": "user", "content": "Remind me."}])
    assert follow.output_text == "You like tea."
    sent = fake_openai.last.body["messages"]
    assert any(m["role"] == "system" and "Ada: likes tea" in m["content"] for m in sent)
    assert sent[-1] == {"role": "user", "content": "Remind me."}


def test_truncation_auto_drops_the_oldest_items(oai, fake_openai) -> None:
    history = []
    for n in range(12):
        history.append({"role": "user", "content": f"message {n}: " + "lorem ipsum dolor " * 120})
        history.append({"role": "assistant", "content": f"reply {n}"})
    history.append({"role": "user", "content": "And the last question?"})
    fake_openai.script(ow.completion("fits"), ow.completion("all of it"))
    oai.responses.create(model=VIA_OPENAI, input=history, instructions="Keep me.", truncation="auto",
                         max_output_tokens=200)
    sent = fake_openai.received[-1].body["messages"]
    assert sent[0] == {"role": "system", "content": "Keep me."}
    assert sent[-1]["content"] == "And the last question?"
    assert len(sent) < len(history) + 1
    assert "message 0:" not in json.dumps(sent)
    oai.responses.create(model=VIA_OPENAI, input=history, truncation="disabled")
    assert len(fake_openai.received[-1].body["messages"]) == len(history)


@pytest.mark.slow
def test_responses_on_the_embedded_model(oai) -> None:
    first = oai.responses.create(model=LOCAL, input="My favourite colour is green. Reply with OK.",
                                 max_output_tokens=16, temperature=0)
    assert first.status in ("completed", "incomplete") and first.output_text
    events = []
    with oai.responses.stream(model=LOCAL, previous_response_id=first.id, max_output_tokens=16, temperature=0,
                              input="What is my favourite colour? One word.") as stream:
        for event in stream:
            events.append(event.type)
        final = stream.get_final_response()
    assert "green" in final.output_text.lower()
    assert events[0] == "response.created" and events[-1] in ("response.completed", "response.incomplete")


@pytest.mark.slow
def test_function_call_on_the_embedded_model(oai) -> None:
    tool = {"type": "function", "name": "get_weather", "description": "Get the weather for a city",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"],
                           "additionalProperties": False}, "strict": True}
    response = oai.responses.create(model=LOCAL, input="What's the weather in Madrid?", tools=[tool],
                                    tool_choice="required", max_output_tokens=60, temperature=0)
    call = next(item for item in response.output if item.type == "function_call")
    assert call.name == "get_weather" and "madrid" in json.loads(call.arguments)["city"].lower()
    with pytest.raises(openai.BadRequestError):
        oai.responses.create(model=LOCAL, input="x", tools=[{"type": "local_shell"}])


@pytest.mark.slow
def test_logprobs_on_the_embedded_model(oai) -> None:
    response = oai.responses.create(model=LOCAL, input="Say yes.", max_output_tokens=16, temperature=0,
                                    top_logprobs=2, include=["message.output_text.logprobs"])
    part = response.output[-1].content[0]
    assert part.logprobs, part
    first = part.logprobs[0]
    assert first.logprob <= 0 and len(first.top_logprobs) == 2
    assert "".join(lp.token for lp in part.logprobs) == part.text
