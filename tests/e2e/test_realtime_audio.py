"""Audio turns of the Realtime API on the embedded speech models, through the official
SDK's realtime client: speech made by the embedded voice is sent as 16-bit PCM chunks
with server VAD on; the turn is detected, committed and transcribed (the words come
back), the chat model (a scripted upstream, writing slowly) answers from the transcript,
and the answer comes back as audio that starts before the model has finished and that,
transcribed, says the model's words. Also: G.711 audio both ways with the usage's audio
tokens, ``semantic_vad`` ending a turn whose transcript ends a sentence, and
transcription-only sessions (opened by ``intent=transcription`` and by a client secret)
that transcribe turns and answer nothing."""

from __future__ import annotations

import base64
import math
from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e import g711_reference as g711
from tests.e2e.audio_helpers import words
from tests.e2e.realtime_support import of, pcm_wav, receive, session, speech_server, types, until
from tests.fakes import openai_wire as ow
from tests.fakes.upstream import FakeUpstream
from tests.server import LiveServer, sdk

pytestmark = pytest.mark.slow

CHAT = "gpt-fake"
QUESTION = "What is the weather like in Paris today?"
ANSWER = ["It is sunny ", "in Paris. ", "The wind ", "is light."]
CHUNK = 4800  # 100 ms of 16-bit PCM at 24 kHz


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory, fake_openai: FakeUpstream) -> Iterator[LiveServer]:
    server = speech_server(tmp_path_factory.mktemp("switchyard-realtime-audio"), fake_openai.url)
    yield server
    server.stop()



def test_an_audio_turn_with_server_vad_is_heard_answered_and_spoken(live: LiveServer,
                                                                     fake_openai: FakeUpstream) -> None:
    client = sdk(live)
    speech = client.audio.speech.create(model="tts-1", voice="alloy", input=QUESTION, response_format="pcm").content
    audio = b"\0" * 9600 + speech + b"\0" * 48000  # 0.2 s of silence, the question, 1 s of silence
    fake_openai.script(ow.stream(ANSWER, delay=0.4))
    with session(live, CHAT) as connection:
        created = receive(connection)
        assert created["session"]["output_modalities"] == ["audio"]  # a speech model is configured: GA default
        connection.session.update(session={"type": "realtime", "instructions": "Answer briefly.", "audio": {
            "input": {"transcription": {"model": "whisper-1"},
                      "turn_detection": {"type": "server_vad", "silence_duration_ms": 500}},
            "output": {"voice": "marin"}}})
        until(connection, "session.updated")
        for start in range(0, len(audio), CHUNK):
            connection.input_audio_buffer.append(audio=base64.b64encode(audio[start:start + CHUNK]).decode())
        events = until(connection, "response.done", limit=5000)
    kinds = types(events)
    started = of(events, "input_audio_buffer.speech_started")[0]
    stopped = of(events, "input_audio_buffer.speech_stopped")[0]
    assert 0 <= started["audio_start_ms"] < 300 and stopped["item_id"] == started["item_id"]
    assert stopped["audio_end_ms"] > started["audio_start_ms"] + 1000
    committed = of(events, "input_audio_buffer.committed")[0]
    assert committed["item_id"] == started["item_id"]
    assert kinds.index("input_audio_buffer.speech_stopped") < kinds.index("input_audio_buffer.committed")
    heard = of(events, "conversation.item.input_audio_transcription.completed")[0]
    assert heard["item_id"] == committed["item_id"] and words(heard["transcript"]) == words(QUESTION)
    assert heard["usage"]["type"] == "duration" and heard["usage"]["seconds"] > 1.0
    assert "".join(d["delta"] for d in of(events, "conversation.item.input_audio_transcription.delta")).strip() \
        == heard["transcript"]
    # the model saw the transcript
    sent = fake_openai.last.body["messages"]
    assert sent[0] == {"role": "system", "content": "Answer briefly."}
    assert words(sent[-1]["content"]) == words(QUESTION)
    # the answer: transcript deltas as the model writes, audio sentence by sentence, the first before the model ends
    transcript_deltas = [i for i, e in enumerate(events) if e["type"] == "response.output_audio_transcript.delta"]
    audio_deltas = [i for i, e in enumerate(events) if e["type"] == "response.output_audio.delta"]
    assert len(transcript_deltas) == len(ANSWER) and audio_deltas
    assert audio_deltas[0] < transcript_deltas[-1], "the first audio came only after the model had finished"
    done = events[-1]["response"]
    assert done["status"] == "completed" and done["output_modalities"] == ["audio"]
    assert done["output"][0]["content"] == [{"type": "output_audio", "transcript": "".join(ANSWER)}]
    assert of(events, "response.output_audio_transcript.done")[0]["transcript"] == "".join(ANSWER)
    spoken = b"".join(base64.b64decode(events[i]["delta"]) for i in audio_deltas)
    assert 1.5 < len(spoken) / 48000 < 10
    back = client.audio.transcriptions.create(model="whisper-1", file=("answer.wav", pcm_wav(spoken), "audio/wav"))
    assert words(back.text) == words("".join(ANSWER))


def test_manual_commits_without_turn_detection(live: LiveServer, fake_openai: FakeUpstream) -> None:
    client = sdk(live)
    speech = client.audio.speech.create(model="tts-1", voice="alloy", input="Good morning to you.",
                                        response_format="pcm").content
    fake_openai.script(ow.stream(["Good morning!"]))
    with session(live, CHAT) as connection:
        receive(connection)
        connection.session.update(session={"type": "realtime", "output_modalities": ["text"],
                                           "audio": {"input": {"turn_detection": None}}})
        assert until(connection, "session.updated")[-1]["session"]["audio"]["input"]["turn_detection"] is None
        connection.input_audio_buffer.append(audio=base64.b64encode(speech).decode())
        connection.input_audio_buffer.commit(event_id="ev_commit")
        events = until(connection, "conversation.item.done")
        assert types(events) == ["input_audio_buffer.committed", "conversation.item.added", "conversation.item.done"]
        assert events[1]["item"]["content"] == [{"type": "input_audio", "transcript": None}]
        connection.response.create()  # waits for the committed audio's transcript
        events = until(connection, "response.done")
        assert "input_audio_buffer.speech_started" not in types(events)
        assert events[-1]["response"]["output"][0]["content"][0]["text"] == "Good morning!"
        connection.input_audio_buffer.commit(event_id="ev_empty")
        error = until(connection, "error")[-1]["error"]
        assert error["code"] == "input_audio_buffer_commit_empty" and error["event_id"] == "ev_empty"
    assert words(fake_openai.last.body["messages"][-1]["content"]) == words("Good morning to you.")


def _send(connection: Any, audio: bytes, chunk: int) -> None:
    for start in range(0, len(audio), chunk):
        connection.input_audio_buffer.append(audio=base64.b64encode(audio[start:start + chunk]).decode())


def test_g711_both_ways_with_audio_tokens_in_the_usage(live: LiveServer, fake_openai: FakeUpstream) -> None:
    client = sdk(live)
    speech = client.audio.speech.create(model="tts-1", voice="alloy", input=QUESTION, response_format="pcm").content
    alaw = g711.encode(b"\0" * 9600 + speech + b"\0" * 48000, "alaw")  # 8 kHz, one byte a sample
    fake_openai.script(ow.stream(ANSWER, use=ow.usage(prompt=30, completion=8)))
    with session(live, CHAT) as connection:
        receive(connection)
        connection.session.update(session={"type": "realtime", "audio": {
            "input": {"format": {"type": "audio/pcma"}, "transcription": {"model": "whisper-1"}},
            "output": {"format": {"type": "audio/pcmu"}}}})
        updated = until(connection, "session.updated")[-1]["session"]["audio"]
        assert updated["input"]["format"] == {"type": "audio/pcma"}
        assert updated["output"]["format"] == {"type": "audio/pcmu"}
        _send(connection, alaw, 800)  # 100 ms at 8 kHz
        events = until(connection, "response.done", limit=5000)
    heard = of(events, "conversation.item.input_audio_transcription.completed")[0]
    assert words(heard["transcript"]) == words(QUESTION)
    assert words(fake_openai.last.body["messages"][-1]["content"]) == words(QUESTION)
    done = events[-1]["response"]
    assert done["audio"]["output"]["format"] == {"type": "audio/pcmu"}
    spoken = b"".join(base64.b64decode(e["delta"]) for e in of(events, "response.output_audio.delta"))
    pcm8k = g711.decode(spoken, "ulaw")
    assert 1.5 < len(spoken) / 8000 < 10
    back = client.audio.transcriptions.create(model="whisper-1", file=("answer.wav", pcm_wav(pcm8k, 8000), "audio/wav"))
    assert words(back.text) == words("".join(ANSWER))
    # usage: the model's text tokens, and the audio counted as OpenAI counts it
    started = of(events, "input_audio_buffer.speech_started")[0]
    stopped = of(events, "input_audio_buffer.speech_stopped")[0]
    heard_ms = stopped["audio_end_ms"] - started["audio_start_ms"]
    spoken_ms = sum(len(base64.b64decode(e["delta"])) // 8 for e in of(events, "response.output_audio.delta"))
    usage = done["usage"]
    assert usage["input_token_details"]["text_tokens"] == 30
    assert abs(usage["input_token_details"]["audio_tokens"] - math.ceil(heard_ms / 100)) <= 1
    assert usage["input_tokens"] == 30 + usage["input_token_details"]["audio_tokens"]
    assert usage["output_token_details"] == {"text_tokens": 8, "audio_tokens": math.ceil(spoken_ms / 50)}
    assert usage["output_tokens"] == 8 + math.ceil(spoken_ms / 50)
    assert usage["total_tokens"] == usage["input_tokens"] + usage["output_tokens"]


def test_semantic_vad_ends_a_turn_whose_transcript_ends_a_sentence(live: LiveServer,
                                                                   fake_openai: FakeUpstream) -> None:
    client = sdk(live)
    speech = client.audio.speech.create(model="tts-1", voice="alloy", input=QUESTION, response_format="pcm").content
    fake_openai.script(ow.stream(["Sunny."]))
    with session(live, CHAT) as connection:
        receive(connection)
        connection.session.update(session={"type": "realtime", "output_modalities": ["text"], "audio": {"input": {
            "turn_detection": {"type": "semantic_vad", "eagerness": "low"}}}})
        until(connection, "session.updated")
        # 3 s of silence after the question: less than low eagerness's 8 s wait for a turn that
        # sounds unfinished, more than its 1 s wait for one whose transcript ends a sentence
        _send(connection, b"\0" * 9600 + speech + b"\0" * 3 * 48000, CHUNK)
        events = until(connection, "response.done", limit=5000)
    kinds = types(events)
    assert kinds.index("input_audio_buffer.speech_stopped") < kinds.index("input_audio_buffer.committed")
    assert events[-1]["response"]["output"][0]["content"][0]["text"] == "Sunny."
    assert words(fake_openai.last.body["messages"][-1]["content"]) == words(QUESTION)


def test_a_transcription_session_from_a_client_secret_transcribes_and_never_answers(
        live: LiveServer, fake_openai: FakeUpstream) -> None:
    client = sdk(live)
    speech = client.audio.speech.create(model="tts-1", voice="alloy", input=QUESTION, response_format="pcm").content
    secret = client.realtime.client_secrets.create(session={"type": "transcription", "audio": {"input": {
        "format": {"type": "audio/pcmu"}, "transcription": {"model": "whisper-1", "language": "en"},
        "turn_detection": {"type": "server_vad", "silence_duration_ms": 600}}}})
    assert secret.session.type == "transcription"
    calls = len(fake_openai.received)
    with sdk(live, secret.value).realtime.connect() as connection:  # no model: the secret's session says
        created = receive(connection)
        assert created["session"]["type"] == "transcription"
        assert created["session"]["audio"]["input"]["format"] == {"type": "audio/pcmu"}
        _send(connection, g711.encode(b"\0" * 9600 + speech + b"\0" * 48000, "ulaw"), 800)
        events = until(connection, "conversation.item.input_audio_transcription.completed", limit=5000)
        connection.response.create(event_id="ev_answer")
        refused = until(connection, "error")[-1]["error"]
    assert refused["event_id"] == "ev_answer" and refused["param"] == "type"
    kinds = types(events)
    assert kinds.index("input_audio_buffer.speech_stopped") < kinds.index("input_audio_buffer.committed")
    committed = of(events, "input_audio_buffer.committed")[0]
    heard = events[-1]
    assert heard["item_id"] == committed["item_id"] and words(heard["transcript"]) == words(QUESTION)
    deltas = of(events, "conversation.item.input_audio_transcription.delta")
    assert deltas and "".join(d["delta"] for d in deltas).strip() == heard["transcript"]
    assert not [k for k in kinds if k.startswith("response.")]
    assert len(fake_openai.received) == calls  # no chat model was called


def test_a_transcription_session_by_intent(live: LiveServer, fake_openai: FakeUpstream) -> None:
    client = sdk(live)
    speech = client.audio.speech.create(model="tts-1", voice="alloy", input="Good morning to you.",
                                        response_format="pcm").content
    with client.realtime.connect(extra_query={"intent": "transcription"}) as connection:
        created = receive(connection)
        assert created["session"]["type"] == "transcription"
        assert created["session"]["audio"]["input"]["transcription"]["model"] == "whisper-1"
        connection.session.update(session={"type": "transcription", "audio": {"input": {"turn_detection": None}}})
        assert until(connection, "session.updated")[-1]["session"]["audio"]["input"]["turn_detection"] is None
        connection.session.update(session={"type": "transcription", "instructions": "no"}, event_id="ev_bad")
        bad = until(connection, "error")[-1]["error"]
        assert bad["param"] == "session.instructions" and bad["event_id"] == "ev_bad"
        _send(connection, speech, CHUNK)
        connection.input_audio_buffer.commit()
        events = until(connection, "conversation.item.input_audio_transcription.completed", limit=5000)
    assert words(events[-1]["transcript"]) == words("Good morning to you.")
    assert events[-1]["usage"]["type"] == "duration" and events[-1]["usage"]["seconds"] > 0.5
