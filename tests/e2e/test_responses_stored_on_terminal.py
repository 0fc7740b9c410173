"""A stored response can be read back the moment its stream's terminal event arrives:
the server sends ``response.completed`` / ``response.failed`` only once the run is
saved, over HTTP as over WebSocket, in the foreground and in the background."""

from __future__ import annotations

import openai

from tests.conftest import VIA_OPENAI
from tests.fakes import openai_wire as ow

ROUNDS = 20
TERMINAL = ("response.completed", "response.failed", "response.incomplete")
# a long input makes saving the response take a while, so reading early would show
HISTORY = [{"role": "user" if n % 2 == 0 else "assistant", "content": f"line {n} " * 20} for n in range(60)]


def _retrieve_on_terminal(oai: openai.OpenAI, **create: object) -> tuple[dict, dict]:
    """The streamed final response and the stored one, read as soon as the terminal event came."""
    stream = oai.responses.create(model=VIA_OPENAI, input=HISTORY, stream=True, **create)
    try:
        for event in stream:
            if event.type in TERMINAL:
                final = event.response.model_dump(mode="json")
                stored = oai.responses.retrieve(event.response.id).model_dump(mode="json")
                return final, stored
    finally:
        stream.close()
    raise AssertionError("the stream ended without a terminal event")


def test_streamed_response_is_stored_when_completed_arrives(oai, fake_openai) -> None:
    fake_openai.script(*[ow.stream([f"answer {n}"]) for n in range(ROUNDS)])
    for n in range(ROUNDS):
        final, stored = _retrieve_on_terminal(oai)
        assert final["status"] == "completed" and final["output"][0]["content"][0]["text"] == f"answer {n}"
        assert stored == final


def test_streamed_failure_is_stored_when_failed_arrives(oai, fake_openai) -> None:
    fake_openai.script(*[ow.stream(["one ", "two"], drop_after=2) for _ in range(ROUNDS)])
    for _ in range(ROUNDS):
        final, stored = _retrieve_on_terminal(oai)
        assert final["status"] == "failed" and final["error"]["message"]
        assert stored == final


def test_background_stream_is_stored_when_completed_arrives(oai, fake_openai) -> None:
    rounds = ROUNDS // 2
    fake_openai.script(*[ow.stream([f"later {n}"]) for n in range(rounds)])
    for n in range(rounds):
        final, stored = _retrieve_on_terminal(oai, background=True)
        assert final["status"] == "completed" and final["output"][0]["content"][0]["text"] == f"later {n}"
        assert stored == final


def test_whole_response_is_stored_when_returned(oai, fake_openai) -> None:
    fake_openai.script(*[ow.completion(f"whole {n}") for n in range(ROUNDS)])
    for n in range(ROUNDS):
        created = oai.responses.create(model=VIA_OPENAI, input=HISTORY)
        assert created.output_text == f"whole {n}"
        assert oai.responses.retrieve(created.id).model_dump(mode="json") == created.model_dump(mode="json")
