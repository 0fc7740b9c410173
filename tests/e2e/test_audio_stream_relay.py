"""Streamed transcription relayed to an upstream that streams (OpenAI's gpt-4o-transcribe
wire format, on loopback): Switchyard asks for ``stream=true`` and passes each
``transcript.text.delta`` on as it comes, ends with ``transcript.text.done`` carrying the
upstream's token usage, and a stream the upstream breaks ends with an error event after the
deltas already sent. Audio prices: per minute heard, per million characters spoken and per
minute of speech made, in the ledger and in ``x-switchyard-cost-usd``."""

from __future__ import annotations

import io
import wave
from collections.abc import Iterator
from decimal import Decimal

import httpx
import openai
import orjson
import pytest

from tests.e2e.audio_helpers import AUTH, ledger_entry
from tests.fakes.openai_audio import AUDIO, SEGMENTS, STREAM_USAGE, FakeAudioUpstream
from tests.server import LiveServer, sdk

STREAMING, WHISPER, TTS, TTS_MINUTES = "stt-stream", "stt-whisper", "tts-chars", "tts-minutes"
STREAMING_MINUTES = "stt-stream-minutes"
CLIP = b"RIFF....WAVEfmt " + bytes(range(256)) * 40  # the upstream, not Switchyard, reads it
TEXT = "".join(s["text"] for s in SEGMENTS).strip()
COST = "x-switchyard-cost-usd"
# gpt-4o-transcribe's token prices, whisper-1's per minute, tts-1's per 1M characters, gpt-4o-mini-tts's per minute
TOKEN_PRICE = {"input_per_mtok": "2.50", "output_per_mtok": "10"}
WHISPER_PRICE = {"input_per_minute": "0.006"}
CHARACTER_PRICE = {"input_per_mchar": "15"}
MINUTE_PRICE = {"output_per_minute": "0.015"}


@pytest.fixture(scope="module")
def upstream() -> Iterator[FakeAudioUpstream]:
    fake = FakeAudioUpstream()
    fake.start()
    yield fake
    fake.stop()


@pytest.fixture(autouse=True)
def _fresh(upstream: FakeAudioUpstream) -> None:
    upstream.reset()


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory, upstream: FakeAudioUpstream) -> Iterator[LiveServer]:
    common = {"provider": "openai", "base_url": upstream.url + "/v1", "api_key": "sk-upstream-audio", "timeout": 10}
    models = [
        {"name": STREAMING, "task": "transcription", "model": "gpt-4o-transcribe", "price": TOKEN_PRICE, **common},
        {"name": WHISPER, "task": "transcription", "model": "whisper-1", "price": WHISPER_PRICE, **common},
        {"name": STREAMING_MINUTES, "task": "transcription", "model": "gpt-4o-mini-transcribe",
         "price": {"input_per_minute": "0.003"}, **common},
        {"name": TTS, "task": "speech", "model": "tts-1", "price": CHARACTER_PRICE, **common},
        {"name": TTS_MINUTES, "task": "speech", "model": "gpt-4o-mini-tts", "price": MINUTE_PRICE, **common},
    ]
    server = LiveServer(tmp_path_factory.mktemp("switchyard-audio-stream"), models)
    server.start(wait_ready=True)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def client(live: LiveServer) -> openai.OpenAI:
    return sdk(live)


def _usd(value: str) -> Decimal:
    return Decimal(value)


def test_a_streaming_upstream_is_asked_to_stream_and_its_deltas_pass_through(
    client: openai.OpenAI, upstream: FakeAudioUpstream,
) -> None:
    events = list(client.audio.transcriptions.create(model=STREAMING, file=("clip.wav", CLIP, "audio/wav"),
                                                     language="en", stream=True))
    heard = upstream.heard[-1]
    assert heard.fields["stream"] == ["true"] and heard.fields["response_format"] == ["json"]
    assert heard.fields["model"] == ["gpt-4o-transcribe"] and heard.fields["language"] == ["en"]
    assert heard.file == CLIP
    deltas, done = events[:-1], events[-1]
    assert {e.type for e in deltas} == {"transcript.text.delta"} and done.type == "transcript.text.done"
    assert [e.delta for e in deltas] == [TEXT[i:i + 6] for i in range(0, len(TEXT), 6)]  # the upstream's pieces
    assert done.text == TEXT
    assert done.usage is not None and done.usage.type == "tokens"
    assert (done.usage.input_tokens, done.usage.output_tokens, done.usage.total_tokens) == (
        STREAM_USAGE["input_tokens"], STREAM_USAGE["output_tokens"], STREAM_USAGE["total_tokens"])
    assert done.usage.input_token_details is not None and done.usage.input_token_details.audio_tokens == 106


def test_a_stream_the_upstream_breaks_ends_with_an_error_after_the_deltas_sent(
    client: openai.OpenAI, upstream: FakeAudioUpstream,
) -> None:
    upstream.break_stream_after(3)
    received: list[str] = []
    with pytest.raises(openai.APIError) as caught:
        for event in client.audio.transcriptions.create(model=STREAMING, file=("clip.wav", CLIP, "audio/wav"),
                                                        stream=True):
            assert event.type == "transcript.text.delta"
            received.append(event.delta)
    assert received == [TEXT[0:6], TEXT[6:12], TEXT[12:18]]  # passed on before the upstream broke
    assert "upstream" in caught.value.message.lower()


def test_the_broken_stream_is_in_the_ledger_as_an_upstream_error(live: LiveServer,
                                                                 upstream: FakeAudioUpstream) -> None:
    upstream.break_stream_after(2)
    with httpx.stream("POST", live.url + "/v1/audio/transcriptions", headers=AUTH, timeout=30,
                      files=[("model", (None, STREAMING)), ("stream", (None, "true")),
                             ("file", ("c.wav", CLIP, "audio/wav"))]) as response:
        assert response.status_code == 200
        frames = [orjson.loads(line[6:]) for line in response.iter_lines() if line.startswith("data: ")]
        request_id = response.headers["x-request-id"]
    assert [f.get("type") for f in frames[:2]] == ["transcript.text.delta"] * 2
    assert set(frames[-1]) == {"error"} and frames[-1]["error"]["type"]
    entry = ledger_entry(live, request_id)
    assert entry["kind"] == "transcriptions" and entry["outcome"] == "upstream_error"


def test_whisper_is_not_asked_to_stream_and_its_segments_are_the_stream(
    client: openai.OpenAI, upstream: FakeAudioUpstream,
) -> None:
    events = list(client.audio.transcriptions.create(model=WHISPER, file=("clip.wav", CLIP, "audio/wav"),
                                                     stream=True))
    assert "stream" not in upstream.heard[-1].fields
    assert [e.type for e in events] == ["transcript.text.delta", "transcript.text.done"]
    assert events[-1].text == TEXT


def test_translations_never_ask_for_a_stream(client: openai.OpenAI, upstream: FakeAudioUpstream) -> None:
    result = client.audio.translations.create(model=STREAMING, file=("clip.wav", CLIP, "audio/wav"))
    assert result.text == TEXT and "stream" not in upstream.heard[-1].fields


def test_a_streamed_transcription_is_priced_by_the_upstream_tokens(live: LiveServer) -> None:
    with httpx.stream("POST", live.url + "/v1/audio/transcriptions", headers=AUTH, timeout=30,
                      files=[("model", (None, STREAMING)), ("stream", (None, "true")),
                             ("file", ("c.wav", CLIP, "audio/wav"))]) as response:
        lines = list(response.iter_lines())
        request_id = response.headers["x-request-id"]
    expected = (Decimal(STREAM_USAGE["input_tokens"]) * Decimal("2.50")
                + Decimal(STREAM_USAGE["output_tokens"]) * Decimal(10)) / Decimal(10**6)
    entry = ledger_entry(live, request_id)
    assert entry["usage"]["input_tokens"] == STREAM_USAGE["input_tokens"]
    assert entry["usage"]["output_tokens"] == STREAM_USAGE["output_tokens"]
    assert entry["usage"]["counted_by_switchyard"] is False
    assert _usd(entry["cost"]["exact"]) == expected
    assert f": {COST} {entry['cost']['exact']}" in lines  # the stream's closing comment


def _wav(seconds: float, rate: int = 16_000) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(b"\x00\x00" * int(seconds * rate))
    return buffer.getvalue()


def test_a_streamed_relay_is_priced_per_minute_of_the_upload(live: LiveServer, upstream: FakeAudioUpstream) -> None:
    clip = _wav(2.5)
    with httpx.stream("POST", live.url + "/v1/audio/transcriptions", headers=AUTH, timeout=30,
                      files=[("model", (None, STREAMING_MINUTES)), ("stream", (None, "true")),
                             ("file", ("c.wav", clip, "audio/wav"))]) as response:
        lines = list(response.iter_lines())
        request_id = response.headers["x-request-id"]
    assert upstream.heard[-1].fields["stream"] == ["true"] and upstream.heard[-1].file == clip
    assert any(line.startswith("data: ") and "transcript.text.done" in line for line in lines)
    entry = ledger_entry(live, request_id)
    assert entry["usage"]["audio_seconds"] == 2.5  # the upstream reports tokens; the length is read here
    assert _usd(entry["cost"]["exact"]) == Decimal("2.5") * Decimal("0.003") / 60


def test_whisper_is_priced_per_minute_of_audio(live: LiveServer, client: openai.OpenAI) -> None:
    raw = client.audio.transcriptions.with_raw_response.create(
        model=WHISPER, file=("clip.wav", CLIP, "audio/wav"), response_format="verbose_json")
    seconds = Decimal(str(raw.parse().duration))
    expected = seconds * Decimal(WHISPER_PRICE["input_per_minute"]) / 60
    assert _usd(raw.headers[COST]) == expected
    entry = ledger_entry(live, raw.headers["x-request-id"])
    assert entry["usage"]["audio_seconds"] == float(seconds) and _usd(entry["cost"]["exact"]) == expected


def test_speech_is_priced_per_million_characters(live: LiveServer, client: openai.OpenAI) -> None:
    text = "Fifteen dollars per million characters."
    raw = client.audio.speech.with_raw_response.create(model=TTS, voice="alloy", input=text)
    assert raw.content == AUDIO
    entry = ledger_entry(live, raw.headers["x-request-id"])
    assert entry["usage"]["characters"] == len(text)
    assert _usd(entry["cost"]["exact"]) == len(text) * Decimal(CHARACTER_PRICE["input_per_mchar"]) / 10**6


def test_speech_is_priced_per_minute_of_audio_made(live: LiveServer, client: openai.OpenAI) -> None:
    raw = client.audio.speech.with_raw_response.create(model=TTS_MINUTES, voice="alloy", input="Count me.",
                                                       response_format="pcm")
    milliseconds = round(Decimal(len(raw.content)) * 1000 / (24_000 * 2))  # 24 kHz 16-bit mono
    entry = ledger_entry(live, raw.headers["x-request-id"])
    assert _usd(entry["cost"]["exact"]) == milliseconds * Decimal(MINUTE_PRICE["output_per_minute"]) / 60_000
    assert entry["cost"]["value"] > 0


def test_speech_sse_carries_its_cost_in_the_closing_comment(live: LiveServer) -> None:
    body = {"model": TTS, "voice": "alloy", "input": "Twelve chars", "stream_format": "sse"}
    with httpx.stream("POST", live.url + "/v1/audio/speech", json=body, headers=AUTH, timeout=60) as response:
        lines = list(response.iter_lines())
    assert f": {COST} {12 * Decimal(15) / 10**6:f}" in lines
