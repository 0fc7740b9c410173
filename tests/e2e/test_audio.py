"""The Audio API on the embedded models, through the official SDK: speech made by the voice
is transcribed back by Whisper and the words must survive the round trip; every transcript
format, the transcript stream, translations; every speech format decodes with Debian's FFmpeg
to the length of the WAV; the speech stream and its SSE events; bad input answered 4xx
naming the field; each request in the usage ledger with its seconds or characters."""

from __future__ import annotations

import base64
import io
import os
import wave
from collections.abc import Iterator
from pathlib import Path

import httpx
import openai
import orjson
import pytest

from tests.e2e.audio_helpers import AUTH, codec_name, decoded_seconds, ledger_entry, post_form, words
from tests.server import MASTER_KEY, LiveServer

pytestmark = pytest.mark.slow

STT, TTS, WINDOWED = "whisper-base", "hibari-tts", "whisper-3s-windows"
SENTENCES = "The quick brown fox jumps over the lazy dog. Seven green apples fell from the tall tree."
UPLOAD_LIMIT = 1_500_000


@pytest.fixture(scope="module")
def whisper_dir() -> Path:
    from switchyard.providers.audio.whisper_files import ensure_whisper_base

    cache = Path(os.environ.get("SWITCHYARD_TEST_CACHE", Path(__file__).parents[2] / ".cache"))
    return ensure_whisper_base(cache)


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory, whisper_dir: Path) -> Iterator[LiveServer]:
    models = [
        {"name": STT, "provider": "local", "task": "transcription", "path": str(whisper_dir), "threads": 2,
         "aliases": ["whisper-1"]},
        {"name": TTS, "provider": "local", "task": "speech", "aliases": ["tts-1"]},
        {"name": WINDOWED, "provider": "local", "task": "transcription", "path": str(whisper_dir), "threads": 2,
         "audio_window_seconds": 3.0},
    ]
    server = LiveServer(tmp_path_factory.mktemp("switchyard-audio"), models, max_audio_upload_bytes=UPLOAD_LIMIT)
    server.start(wait_ready=True)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def client(live: LiveServer) -> openai.OpenAI:
    return openai.OpenAI(base_url=live.url + "/v1", api_key=MASTER_KEY, max_retries=0, timeout=300,
                         _strict_response_validation=True)


@pytest.fixture(scope="module")
def speech_wav(client: openai.OpenAI) -> bytes:
    return client.audio.speech.create(model=TTS, voice="alloy", input=SENTENCES, response_format="wav").content


def _wav_seconds(data: bytes) -> float:
    """Seconds in a streamed WAV (whose header gives no length): the samples after the header."""
    assert data[:4] == b"RIFF" and data[8:12] == b"WAVE" and data[36:40] == b"data"
    with wave.open(io.BytesIO(data[:44] + b"\0\0")) as wav:
        assert (wav.getnchannels(), wav.getsampwidth(), wav.getframerate()) == (1, 2, 24000)
    return (len(data) - 44) / 2 / 24000


# --- the round trip ---------------------------------------------------------------------------

def test_speech_transcribed_back_gives_the_same_words(client: openai.OpenAI, speech_wav: bytes) -> None:
    assert 3.0 < _wav_seconds(speech_wav) < 15.0
    transcript = client.audio.transcriptions.create(model=STT, file=("speech.wav", speech_wav, "audio/wav"))
    assert words(transcript.text) == words(SENTENCES)
    assert transcript.usage is not None and transcript.usage.type == "duration"
    assert transcript.usage.seconds == pytest.approx(_wav_seconds(speech_wav), abs=1.0)


def test_openai_model_names_reach_the_embedded_models(client: openai.OpenAI) -> None:
    audio = client.audio.speech.create(model="tts-1", voice="nova", input="Good morning to you.",
                                       response_format="mp3").content
    text = client.audio.transcriptions.create(model="whisper-1", file=("hello.mp3", audio, "audio/mpeg"),
                                              response_format="text")
    assert words(text) == ["good", "morning", "to", "you"]


def test_audio_cut_into_windows_still_round_trips(client: openai.OpenAI, speech_wav: bytes) -> None:
    """A model decoding 3 s at a time: the pieces are cut at pauses and their times offset."""
    verbose = client.audio.transcriptions.create(model=WINDOWED, file=("s.wav", speech_wav, "audio/wav"),
                                                 response_format="verbose_json", timestamp_granularities=["word"])
    assert words(verbose.text) == words(SENTENCES)
    assert verbose.duration == pytest.approx(_wav_seconds(speech_wav), abs=0.05)
    assert verbose.segments is not None and len(verbose.segments) >= 2  # at least one per window
    assert all(a.end <= b.start + 0.01 for a, b in zip(verbose.segments, verbose.segments[1:], strict=False))
    # the second window starts where the first was cut, 1.5 to 3 s in (its last half, at a pause)
    assert verbose.segments[-1].start >= 1.5 and verbose.segments[-1].end <= verbose.duration + 0.1
    # seek (in 10 ms frames) counts from the window's start: one whole-file window would give 0 here
    assert verbose.segments[0].seek == 0 and verbose.segments[-1].seek >= 150
    assert verbose.words is not None and words(" ".join(w.word for w in verbose.words)) == words(SENTENCES)
    assert [w.start for w in verbose.words] == sorted(w.start for w in verbose.words)


# --- every transcript format --------------------------------------------------------------------

def test_verbose_json_with_segments_and_word_timestamps(client: openai.OpenAI, speech_wav: bytes) -> None:
    verbose = client.audio.transcriptions.create(
        model=STT, file=("speech.wav", speech_wav, "audio/wav"), response_format="verbose_json",
        timestamp_granularities=["word", "segment"], language="en", temperature=0.0,
    )
    assert verbose.language == "english"
    assert verbose.duration == pytest.approx(_wav_seconds(speech_wav), abs=0.05)
    assert words(verbose.text) == words(SENTENCES)
    assert verbose.segments and words("".join(s.text for s in verbose.segments)) == words(SENTENCES)
    assert [s.id for s in verbose.segments] == list(range(len(verbose.segments)))
    for segment in verbose.segments:
        assert 0 <= segment.start < segment.end <= verbose.duration + 0.5
        assert segment.tokens and segment.avg_logprob < 0 and 0 <= segment.no_speech_prob <= 1
    assert verbose.words is not None and [words(w.word)[0] for w in verbose.words] == words(SENTENCES)
    starts = [w.start for w in verbose.words]
    assert starts == sorted(starts) and all(w.start <= w.end for w in verbose.words)
    assert verbose.words[-1].end <= verbose.duration + 0.5


def test_verbose_json_without_words_has_none(client: openai.OpenAI, speech_wav: bytes) -> None:
    verbose = client.audio.transcriptions.create(model=STT, file=("s.wav", speech_wav, "audio/wav"),
                                                 response_format="verbose_json")
    assert verbose.words is None and verbose.segments


def test_text_srt_and_vtt(client: openai.OpenAI, speech_wav: bytes) -> None:
    text = client.audio.transcriptions.create(model=STT, file=("s.wav", speech_wav, "audio/wav"),
                                              response_format="text")
    assert words(text) == words(SENTENCES)
    srt = client.audio.transcriptions.create(model=STT, file=("s.wav", speech_wav, "audio/wav"),
                                             response_format="srt")
    cues = [c.splitlines() for c in srt.strip().split("\n\n")]
    assert [c[0] for c in cues] == [str(n) for n in range(1, len(cues) + 1)]
    assert all(" --> " in c[1] and c[1][8] == "," for c in cues)
    assert words(" ".join(" ".join(c[2:]) for c in cues)) == words(SENTENCES)
    vtt = client.audio.transcriptions.create(model=STT, file=("s.wav", speech_wav, "audio/wav"),
                                             response_format="vtt")
    assert vtt.startswith("WEBVTT\n\n")
    vtt_cues = [c.splitlines() for c in vtt.removeprefix("WEBVTT\n\n").strip().split("\n\n")]
    assert all(c[0][8] == "." and " --> " in c[0] for c in vtt_cues)
    assert words(" ".join(" ".join(c[1:]) for c in vtt_cues)) == words(SENTENCES)


def test_transcript_stream_deltas_add_up_to_the_done_text(client: openai.OpenAI, speech_wav: bytes) -> None:
    stream = client.audio.transcriptions.create(model=STT, file=("s.wav", speech_wav, "audio/wav"), stream=True)
    events = list(stream)
    assert [e.type for e in events[:-1]] == ["transcript.text.delta"] * (len(events) - 1)
    assert len(events) >= 2 and events[-1].type == "transcript.text.done"
    assert "".join(e.delta for e in events[:-1]) == events[-1].text
    assert words(events[-1].text) == words(SENTENCES)


def test_translation_of_english_speech(client: openai.OpenAI, speech_wav: bytes) -> None:
    translation = client.audio.translations.create(model=STT, file=("s.wav", speech_wav, "audio/wav"),
                                                   response_format="verbose_json")
    assert translation.language == "english" and translation.segments
    assert words(translation.text) == words(SENTENCES)
    plain = client.audio.translations.create(model=STT, file=("s.wav", speech_wav, "audio/wav"))
    assert words(plain.text) == words(SENTENCES)


# --- speech in every format -------------------------------------------------------------------------

@pytest.mark.parametrize(("fmt", "media_type", "codec"), [
    ("mp3", "audio/mpeg", "mp3"), ("opus", "audio/ogg", "opus"), ("aac", "audio/aac", "aac"),
    ("flac", "audio/flac", "flac"), ("wav", "audio/wav", "pcm_s16le"), ("pcm", "audio/pcm", None),
])
def test_every_speech_format_decodes_to_the_length_of_the_wav(
    client: openai.OpenAI, speech_wav: bytes, tmp_path: Path, fmt: str, media_type: str, codec: str | None,
) -> None:
    with client.audio.speech.with_streaming_response.create(model=TTS, voice="heart", input=SENTENCES,
                                                            response_format=fmt) as response:
        assert response.headers["content-type"] == media_type
        path = tmp_path / f"speech.{fmt}"
        response.stream_to_file(path)
    if codec is not None:
        assert codec_name(path) == codec
    assert decoded_seconds(path, raw_pcm=fmt == "pcm") == pytest.approx(_wav_seconds(speech_wav), abs=0.15)


def test_speech_is_sent_as_it_is_synthesised(live: LiveServer) -> None:
    text = " ".join(f"This is sentence number {n}." for n in range(1, 7))
    chunks: list[bytes] = []
    with httpx.stream("POST", live.url + "/v1/audio/speech", headers=AUTH, timeout=120,
                      json={"model": TTS, "voice": "heart", "input": text, "response_format": "pcm"}) as response:
        assert response.status_code == 200 and "content-length" not in response.headers
        chunks.extend(response.iter_raw())
    assert len(chunks) >= 3  # a chunk per sentence, at least, not one body at the end
    assert sum(map(len, chunks)) % 2 == 0 and sum(map(len, chunks)) > 6 * 24000


def test_a_listener_who_leaves_stops_the_synthesis(live: LiveServer) -> None:
    text = " ".join(f"Sentence number {n} is long enough to take a moment to speak." for n in range(1, 40))
    with httpx.stream("POST", live.url + "/v1/audio/speech", headers=AUTH, timeout=120,
                      json={"model": TTS, "voice": "heart", "input": text, "response_format": "mp3"}) as response:
        request_id = response.headers["x-request-id"]
        first = next(response.iter_raw())
        assert first[:3] == b"ID3" or first[0] == 0xFF  # an MP3 frame or tag
    entry = ledger_entry(live, request_id)
    assert entry["outcome"] == "client_disconnected" and entry["kind"] == "speeches"
    # the voice is not left stuck: the next request is answered
    quick = httpx.post(live.url + "/v1/audio/speech", headers=AUTH, timeout=30,
                       json={"model": TTS, "voice": "heart", "input": "Next.", "response_format": "pcm"})
    assert quick.status_code == 200 and len(quick.content) > 2400


def test_speech_sse_events_carry_the_audio(live: LiveServer, client: openai.OpenAI) -> None:
    body = {"model": TTS, "voice": "heart", "input": "Streaming speech events.", "response_format": "pcm"}
    plain = client.audio.speech.create(**body).content
    frames: list[dict] = []
    with httpx.stream("POST", live.url + "/v1/audio/speech", headers=AUTH, timeout=120,
                      json={**body, "stream_format": "sse"}) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        frames = [orjson.loads(line[6:]) for line in response.iter_lines() if line.startswith("data: ")]
    assert [f["type"] for f in frames[:-1]] == ["speech.audio.delta"] * (len(frames) - 1)
    done = frames[-1]
    assert done["type"] == "speech.audio.done" and done["usage"]["input_tokens"] > 0
    assert done["usage"]["total_tokens"] == done["usage"]["input_tokens"] + done["usage"]["output_tokens"]
    audio = b"".join(base64.b64decode(f["audio"]) for f in frames[:-1])
    assert abs(len(audio) - len(plain)) <= 0.02 * len(plain)  # the noise component varies, not the length
    assert len(audio) > 24000


def test_speed_changes_the_length(client: openai.OpenAI) -> None:
    normal = client.audio.speech.create(model=TTS, voice="heart", input=SENTENCES, response_format="pcm").content
    fast = client.audio.speech.create(model=TTS, voice="heart", input=SENTENCES, response_format="pcm",
                                      speed=1.5).content
    assert len(fast) < 0.8 * len(normal)


# --- bad input -------------------------------------------------------------------------------------------

def _error(response: httpx.Response, status: int, param: str | None) -> str:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["param"] == param, error
    return str(error["message"])


def test_missing_file_names_file(live: LiveServer) -> None:
    assert "'file' is required" in _error(post_form(live, "/v1/audio/transcriptions", {"model": STT}), 400, "file")


def test_bad_response_format_names_it(live: LiveServer, speech_wav: bytes) -> None:
    response = post_form(live, "/v1/audio/transcriptions", {"model": STT, "response_format": "xml"},
                         {"file": ("s.wav", speech_wav, "audio/wav")})
    assert "json, text, srt, verbose_json, vtt" in _error(response, 400, "response_format")


def test_word_timestamps_need_verbose_json(live: LiveServer, speech_wav: bytes) -> None:
    response = post_form(live, "/v1/audio/transcriptions", {"model": STT, "timestamp_granularities[]": "word"},
                         {"file": ("s.wav", speech_wav, "audio/wav")})
    _error(response, 400, "timestamp_granularities[]")


@pytest.mark.parametrize(("content", "message"), [(b"", "is empty"), (b"RIFF this is no audio" * 50, "decoded")])
def test_empty_or_undecodable_audio_names_file(live: LiveServer, content: bytes, message: str) -> None:
    response = post_form(live, "/v1/audio/transcriptions", {"model": STT}, {"file": ("x.wav", content, "audio/wav")})
    text = _error(response, 400, "file")
    assert message in text and "/files/" not in text  # no server path in the message


def test_silent_wav_header_only_names_file(live: LiveServer) -> None:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(16000)
    response = post_form(live, "/v1/audio/transcriptions", {"model": STT},
                         {"file": ("empty.wav", buffer.getvalue(), "audio/wav")})
    _error(response, 400, "file")


def test_oversize_upload_is_413_naming_file(live: LiveServer) -> None:
    big = b"RIFF" + b"\0" * (UPLOAD_LIMIT + 10)
    response = post_form(live, "/v1/audio/transcriptions", {"model": STT}, {"file": ("big.wav", big, "audio/wav")})
    assert str(UPLOAD_LIMIT) in _error(response, 413, "file")
    stored = list((live.workdir / "data" / "audio-uploads").rglob("*"))
    assert not [p for p in stored if p.is_file()]  # nothing left behind


def test_uploads_are_deleted_once_answered(client: openai.OpenAI, live: LiveServer, speech_wav: bytes) -> None:
    client.audio.transcriptions.create(model=STT, file=("s.wav", speech_wav, "audio/wav"), response_format="text")
    list(client.audio.transcriptions.create(model=STT, file=("s.wav", speech_wav, "audio/wav"), stream=True))
    stored = [p for p in (live.workdir / "data" / "audio-uploads").rglob("*") if p.is_file()]
    assert not stored and not list((live.workdir / "data" / "files").rglob("*.part"))


def test_sdk_raises_on_unsupported_voice(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        client.audio.speech.create(model=TTS, voice="emma", input="hello")
    assert caught.value.body["param"] == "voice" and "heart" in caught.value.body["message"]


@pytest.mark.parametrize(("body", "param"), [
    ({"model": TTS, "voice": "heart", "input": "hi", "response_format": "ogg"}, "response_format"),
    ({"model": TTS, "voice": "heart"}, "input"),
    ({"model": TTS, "voice": "heart", "input": "x" * 4097}, "input"),
    ({"model": TTS, "voice": "heart", "input": "hi", "speed": 9}, "speed"),
    ({"model": TTS, "voice": "heart", "input": "hi", "speed": 3.0}, "speed"),  # the embedded voice: 0.5..2
    ({"model": TTS, "voice": "heart", "input": "hi", "stream_format": "ws"}, "stream_format"),
    ({"model": STT, "voice": "heart", "input": "hi"}, "model"),
    ({"model": "no-such-model", "voice": "heart", "input": "hi"}, "model"),
])
def test_bad_speech_requests_name_the_field(live: LiveServer, body: dict, param: str) -> None:
    response = httpx.post(live.url + "/v1/audio/speech", json=body, headers=AUTH, timeout=30)
    assert response.status_code in (400, 404)
    _error(response, response.status_code, param)


def test_audio_needs_a_key(live: LiveServer) -> None:
    response = httpx.post(live.url + "/v1/audio/speech", json={"model": TTS, "voice": "heart", "input": "hi"})
    assert response.status_code == 401 and response.json()["error"]["type"] == "authentication_error"


# --- models and metering ------------------------------------------------------------------------------

def test_audio_models_are_listed(client: openai.OpenAI) -> None:
    ids = [m.id for m in client.models.list()]
    assert STT in ids and TTS in ids


def test_each_request_is_one_ledger_entry_with_seconds_or_characters(live: LiveServer, client: openai.OpenAI,
                                                                    speech_wav: bytes) -> None:
    text = "Counted characters."
    spoken = client.audio.speech.with_raw_response.create(model=TTS, voice="heart", input=text,
                                                          response_format="wav")
    heard = client.audio.transcriptions.with_raw_response.create(model=STT, file=("s.wav", speech_wav, "audio/wav"))
    spoken_entry = ledger_entry(live, spoken.headers["x-request-id"])
    heard_entry = ledger_entry(live, heard.headers["x-request-id"])
    assert (spoken_entry["kind"], spoken_entry["model"], spoken_entry["surface"], spoken_entry["outcome"]) == (
        "speeches", TTS, "openai.audio", "completed")
    assert spoken_entry["usage"]["characters"] == len(text) and spoken_entry["usage"]["input_tokens"] > 0
    assert (heard_entry["kind"], heard_entry["model"], heard_entry["outcome"]) == ("transcriptions", STT, "completed")
    assert heard_entry["usage"]["audio_seconds"] == pytest.approx(_wav_seconds(speech_wav), abs=0.05)
    assert heard_entry["usage"]["output_tokens"] > 5
