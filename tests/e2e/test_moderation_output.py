"""The moderation guardrail on model output (a project's ``output_mode``), through the
official SDKs against a live server whose chat model is a scripted upstream that writes an
offensive sentence. The embedded classifier decides, for real: ``block`` refuses a
non-streaming answer and ends a stream with the surface's error event (Chat, Responses,
Anthropic Messages) before the offensive text is sent; ``flag`` adds a header; ``log``
writes a line; benign output passes unchanged."""

from __future__ import annotations

from collections.abc import Iterator

import anthropic
import openai
import pytest

from tests.e2e.media import BENIGN, CHAT, TOXIC, UPSTREAM_MODERATION, start_media_server
from tests.fakes import media_wire as mw
from tests.fakes import openai_wire as ow
from tests.fakes.upstream import FakeUpstream, by_stream
from tests.server import LiveServer, sdk
from tests.tenants import admin_client, new_key, new_project

OUTPUT_FLAG = "x-switchyard-moderation-output-flagged"
INPUT_FLAG = "x-switchyard-moderation-flagged"
# a benign opening longer than the guardrail's window (200 characters), so that a stream
# releases it before the offensive sentence arrives
OPENING = " ".join([BENIGN, "The museum opens at nine and the café there serves warm croissants all morning.",
                    "Bring a hat, some water and comfortable shoes for the long walk by the river."])
ANSWER = f"{OPENING} {TOXIC} Have a nice day."


def _pieces(text: str, size: int = 10) -> list[str]:
    return [text[i:i + size] for i in range(0, len(text), size)]


def _script(fake: FakeUpstream, text: str) -> None:
    fake.script(by_stream(ow.completion(text), ow.stream(_pieces(text))))


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory, fake_openai: FakeUpstream) -> Iterator[LiveServer]:
    server = start_media_server(tmp_path_factory.mktemp("output-guardrail"), fake_openai, images=False)
    yield server
    server.stop()


def _key(live: LiveServer, **guardrail: object) -> str:
    project = new_project(live.url, "output " + str(guardrail.get("output_mode")))
    with admin_client(live.url) as admin:
        response = admin.post(f"/projects/{project}/moderation", json=guardrail)
        assert response.status_code == 200, response.text
        assert response.json()["output_mode"] == guardrail.get("output_mode")
    return new_key(live.url, project)[1]


@pytest.fixture(scope="module")
def block_key(live: LiveServer) -> str:
    return _key(live, mode="log", output_mode="block")


def _ask(client: openai.OpenAI, **extra: object) -> object:
    return client.chat.completions.create(model=CHAT, messages=[{"role": "user", "content": BENIGN}],
                                          **extra)  # type: ignore[call-overload]


def test_block_refuses_an_offensive_non_streaming_answer(live: LiveServer, block_key: str,
                                                         fake_openai: FakeUpstream) -> None:
    _script(fake_openai, ANSWER)
    with pytest.raises(openai.BadRequestError) as caught:
        _ask(sdk(live, block_key))
    body = caught.value.body
    assert isinstance(body, dict) and body["code"] == "output_blocked"
    assert "output was blocked" in body["message"] and "harassment" in body["message"]
    assert TOXIC not in str(caught.value.response.text)
    assert len(fake_openai.received) == 1  # the model ran; its answer was withheld


def test_block_lets_a_benign_answer_through_unchanged(live: LiveServer, block_key: str,
                                                      fake_openai: FakeUpstream) -> None:
    _script(fake_openai, OPENING)
    reply = _ask(sdk(live, block_key))
    assert reply.choices[0].message.content == OPENING  # type: ignore[attr-defined]
    _script(fake_openai, OPENING)
    chunks = list(_ask(sdk(live, block_key), stream=True))  # type: ignore[call-overload]
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == OPENING
    assert chunks[-1].choices[0].finish_reason == "stop" or any(
        c.choices and c.choices[0].finish_reason == "stop" for c in chunks)


def test_block_ends_a_chat_stream_with_an_error_before_the_offensive_text(
    live: LiveServer, block_key: str, fake_openai: FakeUpstream,
) -> None:
    _script(fake_openai, ANSWER)
    received: list[str] = []
    with pytest.raises(openai.APIError) as caught:
        for chunk in _ask(sdk(live, block_key), stream=True):  # type: ignore[attr-defined]
            if chunk.choices:
                received.append(chunk.choices[0].delta.content or "")
    text = "".join(received)
    assert text and OPENING.startswith(text)  # the benign opening was streamed before the block
    assert "idiot" not in text
    assert caught.value.code == "output_blocked"
    assert "moderation guardrail" in caught.value.message


def test_block_ends_a_responses_stream_with_its_error(live: LiveServer, block_key: str,
                                                      fake_openai: FakeUpstream) -> None:
    _script(fake_openai, ANSWER)
    events = list(sdk(live, block_key).responses.create(model=CHAT, input=BENIGN, stream=True))
    text = "".join(e.delta for e in events if e.type == "response.output_text.delta")
    assert OPENING.startswith(text) and "idiot" not in text
    last = events[-1]
    assert last.type == "response.failed", [e.type for e in events]
    assert last.response.error is not None and "output was blocked" in last.response.error.message


def test_block_fails_a_non_streaming_response(live: LiveServer, block_key: str, fake_openai: FakeUpstream) -> None:
    _script(fake_openai, ANSWER)
    response = sdk(live, block_key).responses.create(model=CHAT, input=BENIGN)
    assert response.status == "failed" and response.output_text == ""  # nothing of the answer is kept
    assert response.error is not None and "output was blocked" in response.error.message
    assert "idiot" not in response.model_dump_json()


def test_block_ends_an_anthropic_stream_with_an_error_event(live: LiveServer, block_key: str,
                                                            fake_openai: FakeUpstream) -> None:
    _script(fake_openai, ANSWER)
    claude = anthropic.Anthropic(base_url=live.url, api_key=block_key, max_retries=0, timeout=60)
    received: list[str] = []
    with (pytest.raises(anthropic.APIStatusError) as caught,
          claude.messages.stream(model=CHAT, max_tokens=200, messages=[{"role": "user", "content": BENIGN}]) as stream):
        for piece in stream.text_stream:
            received.append(piece)
    text = "".join(received)
    assert text and OPENING.startswith(text) and "idiot" not in text
    assert "output was blocked" in str(caught.value.body)


def test_block_on_a_non_streaming_anthropic_message(live: LiveServer, block_key: str,
                                                    fake_openai: FakeUpstream) -> None:
    _script(fake_openai, ANSWER)
    claude = anthropic.Anthropic(base_url=live.url, api_key=block_key, max_retries=0, timeout=60)
    with pytest.raises(anthropic.BadRequestError) as caught:
        claude.messages.create(model=CHAT, max_tokens=200, messages=[{"role": "user", "content": BENIGN}])
    assert caught.value.body["error"]["type"] == "invalid_request_error"
    assert "output was blocked" in caught.value.body["error"]["message"]


def test_flag_marks_a_non_streaming_answer_with_its_own_header(live: LiveServer,
                                                               fake_openai: FakeUpstream) -> None:
    key = _key(live, mode="flag", output_mode="flag")
    _script(fake_openai, ANSWER)
    raw = sdk(live, key).chat.completions.with_raw_response.create(
        model=CHAT, messages=[{"role": "user", "content": BENIGN}])
    assert raw.headers[OUTPUT_FLAG] == "harassment" and INPUT_FLAG not in raw.headers
    assert raw.parse().choices[0].message.content == ANSWER
    _script(fake_openai, OPENING)
    raw = sdk(live, key).chat.completions.with_raw_response.create(
        model=CHAT, messages=[{"role": "user", "content": BENIGN}])
    assert OUTPUT_FLAG not in raw.headers


def test_log_writes_a_line_and_streams_everything(live: LiveServer, fake_openai: FakeUpstream) -> None:
    key = _key(live, mode="log", output_mode="log")
    _script(fake_openai, ANSWER)
    raw = sdk(live, key).chat.completions.with_raw_response.create(
        model=CHAT, stream=True, messages=[{"role": "user", "content": BENIGN}])
    chunks = list(raw.parse())
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == ANSWER
    request_id = raw.headers["x-request-id"]
    lines = [line for line in live.log_path.read_text().splitlines() if request_id in line]
    assert any("moderation guardrail flagged output" in line and "mode=log" in line
               and "categories=harassment" in line for line in lines), lines


def test_without_an_output_mode_output_is_not_screened(live: LiveServer, fake_openai: FakeUpstream) -> None:
    key = _key(live, mode="block")
    _script(fake_openai, ANSWER)
    assert _ask(sdk(live, key)).choices[0].message.content == ANSWER  # type: ignore[attr-defined]


def test_a_bad_output_mode_names_the_field(live: LiveServer) -> None:
    project = new_project(live.url, "bad output mode")
    with admin_client(live.url) as admin:
        response = admin.post(f"/projects/{project}/moderation", json={"mode": "block", "output_mode": "shout"})
    assert response.status_code == 400, response.text
    assert response.json()["error"]["param"] == "output_mode"


def test_block_fails_closed_when_the_moderation_model_cannot_check_the_output(
    live: LiveServer, fake_openai: FakeUpstream,
) -> None:
    key = _key(live, mode="log", output_mode="block", model=UPSTREAM_MODERATION)
    fake_openai.script(mw.moderation(mw.moderation_result({})), ow.completion(OPENING),
                       ow.error(500, "moderation is down", "server_error"))
    with pytest.raises(openai.APIStatusError) as caught:
        _ask(sdk(live, key))
    assert caught.value.status_code == 503 and caught.value.body["code"] == "guardrail_unavailable"
    assert "could not check the output" in caught.value.body["message"]
    assert [r.path for r in fake_openai.received] == ["/v1/moderations", "/v1/chat/completions", "/v1/moderations"]


def test_a_relayed_moderation_model_gets_the_output_sentence_by_sentence(
    live: LiveServer, fake_openai: FakeUpstream,
) -> None:
    key = _key(live, mode="log", output_mode="flag", model=UPSTREAM_MODERATION)
    sentences = ["First sentence here.", "Second one follows!", "And a third?"]
    fake_openai.script(mw.moderation(mw.moderation_result({})), ow.completion(" ".join(sentences)),
                       mw.moderation(*[mw.moderation_result({"violence": 0.9 if i == 1 else 0.0}) for i in range(3)]))
    raw = sdk(live, key).chat.completions.with_raw_response.create(
        model=CHAT, messages=[{"role": "user", "content": BENIGN}])
    assert raw.headers[OUTPUT_FLAG] == "violence"
    assert fake_openai.last.body["input"] == sentences
