"""A spoken turn of a realtime call over WebRTC on the embedded speech models: the caller
speaks the question on its audio track (speech made by the embedded voice), server VAD
finds the turn, the words are transcribed, the model's answer comes back on the server's
audio track (not as audio events), framed by ``output_audio_buffer.started`` and
``.stopped``, and what the caller heard, transcribed, is the model's answer. A second
answer is cut by the caller (``response.cancel`` + ``output_audio_buffer.clear``): the
track goes quiet, ``output_audio_buffer.cleared`` comes, and the answer's item is
truncated to what was heard."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import openai
import pytest

from tests.e2e.audio_helpers import words
from tests.e2e.realtime_support import pcm_wav, speech_server
from tests.e2e.test_realtime_webrtc import call, client
from tests.e2e.webrtc_peer import Caller, loud_ms
from tests.fakes import openai_wire as ow
from tests.fakes.upstream import FakeUpstream
from tests.server import LiveServer

pytestmark = pytest.mark.slow

CHAT = "gpt-fake"
QUESTION = "What is the weather like in Paris today?"
ANSWER = ["It is sunny ", "in Paris. ", "The wind ", "is light."]
LONG = ["The history of Paris ", "is long. ", "It began ", "as a small village ", "on an island. ",
        "Then it grew ", "for two thousand years. ", "Today it is ", "a very large city."]


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory, fake_openai: FakeUpstream) -> Iterator[LiveServer]:
    server = speech_server(tmp_path_factory.mktemp("switchyard-webrtc-audio"), fake_openai.url)
    yield server
    server.stop()



async def test_a_spoken_turn_is_heard_and_answered_on_the_audio_track_then_an_answer_is_cut(
        live: LiveServer, fake_openai: FakeUpstream) -> None:
    sdk = client(live)
    question = (await sdk.audio.speech.create(model="tts-1", voice="alloy", input=QUESTION,
                                              response_format="pcm")).content
    fake_openai.script(ow.stream(ANSWER, delay=0.2), ow.stream(LONG, delay=0.3))
    caller = Caller()
    try:
        await call(live, caller, {"type": "realtime", "model": CHAT, "instructions": "Answer briefly.", "audio": {
            "input": {"transcription": {"model": "whisper-1"},
                      "turn_detection": {"type": "server_vad", "silence_duration_ms": 500}},
            "output": {"voice": "marin"}}})
        created = (await caller.until("session.created"))[-1]
        assert created["session"]["output_modalities"] == ["audio"]
        caller.voice.say(question)
        events = await caller.until("output_audio_buffer.stopped", timeout=120)
        kinds = [e["type"] for e in events]
        heard = next(e for e in events if e["type"] == "conversation.item.input_audio_transcription.completed")
        assert words(heard["transcript"]) == words(QUESTION)
        assert words(fake_openai.last.body["messages"][-1]["content"]) == words(QUESTION)
        assert "response.output_audio.delta" not in kinds  # the audio went on the track
        started = next(e for e in events if e["type"] == "output_audio_buffer.started")
        done = next(e for e in events if e["type"] == "response.done")["response"]
        assert started["response_id"] == done["id"] == events[-1]["response_id"]
        assert kinds.index("response.content_part.added") < kinds.index("output_audio_buffer.started") \
            < kinds.index("response.done") < kinds.index("output_audio_buffer.stopped")
        assert done["status"] == "completed"
        assert done["output"][0]["content"] == [{"type": "output_audio", "transcript": "".join(ANSWER)}]
        await asyncio.sleep(0.3)  # the last frames in flight
        spoken = bytes(caller.heard)
        assert loud_ms(spoken) > 1000
        back = await sdk.audio.transcriptions.create(model="whisper-1",
                                                     file=("heard.wav", pcm_wav(spoken), "audio/wav"))
        assert words(back.text) == words("".join(ANSWER))

        # a second answer, cut by the caller once it can be heard
        caller.send({"type": "response.create"})
        cut_events = await caller.until("output_audio_buffer.started", timeout=120)
        response_id = cut_events[-1]["response_id"]
        item_id = next(e for e in cut_events if e["type"] == "response.output_item.added")["item"]["id"]
        await asyncio.sleep(1.5)
        caller.send({"type": "response.cancel"})
        caller.send({"type": "output_audio_buffer.clear"})
        after = await caller.until("conversation.item.truncated", timeout=60)
        cleared = next(e for e in after if e["type"] == "output_audio_buffer.cleared")
        assert cleared["response_id"] == response_id
        assert next(e for e in after if e["type"] == "response.done")["response"]["status"] == "cancelled"
        truncated = after[-1]
        assert truncated["item_id"] == item_id and 500 < truncated["audio_end_ms"] < 6000
        assert "output_audio_buffer.stopped" not in [e["type"] for e in after]
        quiet_from = len(caller.heard)
        await asyncio.sleep(1.0)
        assert loud_ms(bytes(caller.heard[quiet_from + 9600:])) == 0  # after 0.2 s in flight, silence
    finally:
        await caller.close()
    assert isinstance(sdk, openai.AsyncOpenAI)
