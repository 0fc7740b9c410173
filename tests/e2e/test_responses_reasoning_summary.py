"""``reasoning.summary``: when a summary is asked for, the reasoning comes as
``summary_text`` parts (streamed with the ``reasoning_summary_*`` events, in the spec's
order); without it, as ``reasoning_text`` content."""

from __future__ import annotations

import pytest

from tests.conftest import VIA_ANTHROPIC
from tests.e2e.responses_stream_validator import check_stream
from tests.fakes import anthropic_wire as aw
from tests.fakes.upstream import Script, by_stream


def _thinking_answer() -> Script:
    blocks = [aw.thinking("Greet them warmly.", "sig-sum-1"), aw.text("Hello there")]
    return by_stream(aw.message(blocks), aw.stream(blocks))


@pytest.mark.parametrize("summary", ["auto", "concise", "detailed"])
def test_summary_asked_for_whole(oai, fake_anthropic, summary: str) -> None:
    fake_anthropic.script(_thinking_answer())
    response = oai.responses.create(model=VIA_ANTHROPIC, input="Say hello",
                                    reasoning={"effort": "low", "summary": summary})
    reasoning = response.output[0]
    assert reasoning.type == "reasoning"
    assert [(p.type, p.text) for p in reasoning.summary] == [("summary_text", "Greet them warmly.")]
    assert reasoning.content is None
    assert response.reasoning.summary == summary
    assert response.output_text == "Hello there"


def test_no_summary_keeps_the_text_as_content(oai, fake_anthropic) -> None:
    fake_anthropic.script(_thinking_answer())
    response = oai.responses.create(model=VIA_ANTHROPIC, input="Say hello", reasoning={"effort": "low"})
    reasoning = response.output[0]
    assert reasoning.summary == []
    assert [(p.type, p.text) for p in reasoning.content or []] == [("reasoning_text", "Greet them warmly.")]


def test_summary_streamed_in_the_specs_order(oai, fake_anthropic) -> None:
    fake_anthropic.script(_thinking_answer())
    events = []
    with oai.responses.stream(model=VIA_ANTHROPIC, input="Say hello",
                              reasoning={"effort": "low", "summary": "auto"}) as stream:
        for event in stream:
            events.append(event.model_dump(mode="json", exclude_unset=True))
        final = stream.get_final_response()
    check_stream(events)
    reasoning = [e for e in events if e.get("output_index") == 0]
    assert [e["type"] for e in reasoning] == [
        "response.output_item.added",
        "response.reasoning_summary_part.added",
        "response.reasoning_summary_text.delta",
        "response.reasoning_summary_text.done",
        "response.reasoning_summary_part.done",
        "response.output_item.done",
    ]
    part_added, delta, text_done, part_done = reasoning[1:5]
    assert part_added["part"] == {"type": "summary_text", "text": ""}
    assert all(e["summary_index"] == 0 and e["item_id"] == reasoning[0]["item"]["id"] for e in reasoning[1:5])
    assert delta["delta"] == "Greet them warmly." == text_done["text"]
    assert part_done["part"] == {"type": "summary_text", "text": "Greet them warmly."}
    assert reasoning[-1]["item"]["summary"] == [{"type": "summary_text", "text": "Greet them warmly."}]
    assert "response.reasoning_text.delta" not in {e["type"] for e in events}
    assert final.output[0].summary[0].text == "Greet them warmly."


def test_summarised_reasoning_sent_back_keeps_its_signature(oai, fake_anthropic) -> None:
    fake_anthropic.script(_thinking_answer(), by_stream(aw.message([aw.text("Again.")]),
                                                       aw.stream([aw.text("Again.")])))
    first = oai.responses.create(model=VIA_ANTHROPIC, input="Say hello", store=False,
                                 reasoning={"effort": "low", "summary": "auto"})
    back = [item.model_dump(exclude_none=True) for item in first.output]
    back[0].pop("summary")  # even without its summary the signed text travels in encrypted_content
    back[0]["summary"] = []
    oai.responses.create(model=VIA_ANTHROPIC, input=[{"role": "user", "content": "Say hello"}, *back,
                                                     {"role": "user", "content": "Again"}],
                         store=False, reasoning={"effort": "low", "summary": "auto"})
    assistant = [m for m in fake_anthropic.last.body["messages"] if m["role"] == "assistant"]
    assert assistant[0]["content"][0] == {"type": "thinking", "thinking": "Greet them warmly.",
                                          "signature": "sig-sum-1"}
