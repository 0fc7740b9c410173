"""The Audio API relayed to an OpenAI-compatible upstream (a loopback server speaking
OpenAI's audio wire format): the upload reaches the upstream byte for byte with the
upstream's model name and key; the client's format is made from the upstream's verbose_json
(srt, vtt, words) or json; streams are made from the segments; speech bytes pass through
unchanged as they arrive; upstream errors come back in OpenAI's shape."""

from __future__ import annotations

import base64
import time
from collections.abc import Iterator

import httpx
import openai
import orjson
import pytest

from tests.e2e.audio_helpers import AUTH, ledger_entry
from tests.fakes.openai_audio import AUDIO, WORDS, FakeAudioUpstream
from tests.server import MASTER_KEY, LiveServer
from tests.tenants import new_key, new_project

STT, TTS = "stt-relay", "tts-relay"
CLIP = b"RIFF....WAVEfmt " + bytes(range(256)) * 40  # the upstream, not Switchyard, reads it
TEXT = "Relayed speech is here. And a second sentence."


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
        {"name": STT, "task": "transcription", "model": "whisper-1", "aliases": ["whisper-*"], **common},
        {"name": TTS, "task": "speech", "model": "gpt-4o-mini-tts", **common},
    ]
    server = LiveServer(tmp_path_factory.mktemp("switchyard-audio-relay"), models)
    server.start(wait_ready=True)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def client(live: LiveServer) -> openai.OpenAI:
    return openai.OpenAI(base_url=live.url + "/v1", api_key=MASTER_KEY, max_retries=0, timeout=60,
                         _strict_response_validation=True)


def test_json_transcription_relays_the_upload(client: openai.OpenAI, upstream: FakeAudioUpstream) -> None:
    result = client.audio.transcriptions.create(model=STT, file=("clip.wav", CLIP, "audio/wav"), language="en",
                                                prompt="Relay", temperature=0.3)
    assert result.text == TEXT
    assert result.usage is not None and result.usage.seconds == 4
    heard = upstream.heard[-1]
    assert heard.path == "/v1/audio/transcriptions" and heard.file == CLIP and heard.filename == "clip.wav"
    assert heard.headers["authorization"] == "Bearer sk-upstream-audio"
    assert heard.fields["model"] == ["whisper-1"] and heard.fields["response_format"] == ["json"]
    assert heard.fields["language"] == ["en"] and heard.fields["prompt"] == ["Relay"]
    assert float(heard.fields["temperature"][0]) == 0.3


def test_verbose_json_with_words_from_the_upstream(client: openai.OpenAI, upstream: FakeAudioUpstream) -> None:
    verbose = client.audio.transcriptions.create(model="whisper-1", file=("clip.wav", CLIP, "audio/wav"),
                                                 response_format="verbose_json",
                                                 timestamp_granularities=["word", "segment"])
    assert upstream.heard[-1].fields["timestamp_granularities[]"] == ["segment", "word"]
    assert verbose.language == "english" and verbose.duration == 3.25 and verbose.text == TEXT
    assert [s.text for s in verbose.segments or []] == [" Relayed speech is here.", " And a second sentence."]
    assert [(w.word, w.start, w.end) for w in verbose.words or []] == WORDS


def test_srt_and_vtt_are_made_from_upstream_segments(client: openai.OpenAI, upstream: FakeAudioUpstream) -> None:
    srt = client.audio.transcriptions.create(model=STT, file=("clip.wav", CLIP, "audio/wav"), response_format="srt")
    assert upstream.heard[-1].fields["response_format"] == ["verbose_json"]
    assert srt == ("1\n00:00:00,000 --> 00:00:01,500\nRelayed speech is here.\n\n"
                   "2\n00:00:01,500 --> 00:00:03,250\nAnd a second sentence.\n")
    vtt = client.audio.transcriptions.create(model=STT, file=("clip.wav", CLIP, "audio/wav"), response_format="vtt")
    assert vtt == ("WEBVTT\n\n00:00:00.000 --> 00:00:01.500\nRelayed speech is here.\n\n"
                   "00:00:01.500 --> 00:00:03.250\nAnd a second sentence.\n")
    text = client.audio.transcriptions.create(model=STT, file=("clip.wav", CLIP, "audio/wav"), response_format="text")
    assert text.strip() == TEXT


def test_stream_from_a_relayed_transcript(client: openai.OpenAI) -> None:
    events = list(client.audio.transcriptions.create(model=STT, file=("clip.wav", CLIP, "audio/wav"), stream=True))
    assert [e.type for e in events] == ["transcript.text.delta", "transcript.text.done"]
    assert events[0].delta == TEXT and events[1].text == TEXT


def test_translation_goes_to_the_translations_endpoint(client: openai.OpenAI, upstream: FakeAudioUpstream) -> None:
    result = client.audio.translations.create(model=STT, file=("clip.mp3", CLIP, "audio/mpeg"),
                                              response_format="verbose_json")
    heard = upstream.heard[-1]
    assert heard.path == "/v1/audio/translations" and "language" not in heard.fields
    assert result.language == "english" and result.text == TEXT


def test_speech_bytes_pass_through_unchanged(client: openai.OpenAI, upstream: FakeAudioUpstream) -> None:
    with client.audio.speech.with_streaming_response.create(
        model=TTS, voice="coral", input="Say it.", response_format="mp3", speed=1.25, instructions="Cheerful.",
    ) as response:
        assert response.headers["content-type"] == "audio/mpeg"
        data = b"".join(response.iter_bytes())
    assert data == AUDIO
    assert upstream.heard[-1].json == {"model": "gpt-4o-mini-tts", "input": "Say it.", "voice": "coral",
                                       "response_format": "mp3", "speed": 1.25, "instructions": "Cheerful."}


def test_speech_sse_over_a_relay(live: LiveServer) -> None:
    body = {"model": TTS, "voice": "coral", "input": "Say it.", "stream_format": "sse"}
    with httpx.stream("POST", live.url + "/v1/audio/speech", json=body, headers=AUTH, timeout=60) as response:
        frames = [orjson.loads(line[6:]) for line in response.iter_lines() if line.startswith("data: ")]
    assert frames[-1]["type"] == "speech.audio.done"
    assert b"".join(base64.b64decode(f["audio"]) for f in frames[:-1]) == AUDIO


def test_upstream_errors_come_back_in_openai_shape(client: openai.OpenAI, upstream: FakeAudioUpstream) -> None:
    upstream.fail(400, "Invalid file format.", param="file", code="invalid_value")
    with pytest.raises(openai.BadRequestError) as caught:
        client.audio.transcriptions.create(model=STT, file=("clip.wav", CLIP, "audio/wav"))
    assert "Invalid file format." in caught.value.message
    upstream.fail(400, "Voice not found.", param="voice")
    with pytest.raises(openai.BadRequestError) as speech_error:
        client.audio.speech.create(model=TTS, voice="nobody", input="hi")
    assert "Voice not found." in speech_error.value.message


def test_relayed_requests_are_in_the_ledger(live: LiveServer, client: openai.OpenAI) -> None:
    heard = client.audio.transcriptions.with_raw_response.create(
        model=STT, file=("clip.wav", CLIP, "audio/wav"), response_format="verbose_json")
    spoken = client.audio.speech.with_raw_response.create(model=TTS, voice="coral", input="Twelve chars")
    heard_entry = ledger_entry(live, heard.headers["x-request-id"])
    spoken_entry = ledger_entry(live, spoken.headers["x-request-id"])
    assert (heard_entry["kind"], heard_entry["model"], heard_entry["usage"]["audio_seconds"]) == (
        "transcriptions", STT, 3.25)
    assert heard_entry["outcome"] == "completed" and heard_entry["usage"]["output_tokens"] > 5
    assert (spoken_entry["kind"], spoken_entry["model"], spoken_entry["usage"]["characters"]) == ("speeches", TTS, 12)


def test_a_failed_upstream_call_is_an_upstream_error_in_the_ledger(
    live: LiveServer, client: openai.OpenAI, upstream: FakeAudioUpstream,
) -> None:
    upstream.fail(503, "Overloaded.")
    with pytest.raises(openai.APIStatusError) as caught:
        client.audio.speech.create(model=TTS, voice="coral", input="hi")
    entry = ledger_entry(live, caught.value.response.headers["x-request-id"])
    assert entry["kind"] == "speeches" and entry["outcome"] == "upstream_error" and entry["status"] >= 500


def test_a_chat_request_on_an_audio_model_is_refused(live: LiveServer) -> None:
    response = httpx.post(live.url + "/v1/audio/transcriptions", headers=AUTH, timeout=30,
                          files=[("model", (None, TTS)), ("file", ("c.wav", CLIP, "audio/wav"))])
    assert response.status_code == 400 and response.json()["error"]["param"] == "model"
    assert "speech model" in response.json()["error"]["message"]


def test_project_keys_meet_their_model_allowlist_and_their_project_ledger(live: LiveServer) -> None:
    project = new_project(live.url, "audio tenant")
    _, key = new_key(live.url, project, "speech only", allowed_models=[TTS])
    tenant = openai.OpenAI(base_url=live.url + "/v1", api_key=key, max_retries=0, timeout=60)
    spoken = tenant.audio.speech.with_raw_response.create(model=TTS, voice="coral", input="Mine.")
    assert spoken.content == AUDIO
    assert ledger_entry(live, spoken.headers["x-request-id"])["project_id"] == project
    with pytest.raises(openai.PermissionDeniedError) as caught:
        tenant.audio.transcriptions.create(model=STT, file=("clip.wav", CLIP, "audio/wav"))
    assert caught.value.body["param"] == "model"
    with pytest.raises(openai.PermissionDeniedError):  # an alias of a model outside the allowlist
        tenant.audio.transcriptions.create(model="whisper-1", file=("clip.wav", CLIP, "audio/wav"))


MALFORMED = [
    ("application/json", b""), ("application/json", b"{"), ("application/json", b"[]"),
    ("application/json", orjson.dumps({"model": None, "input": 7, "voice": []})),
    ("application/json", orjson.dumps({"model": TTS, "input": "x", "voice": "v", "speed": "1e999"})),
    ("multipart/form-data; boundary=b", b"--b\r\nContent-Disposition: form-data\r\n\r\nx\r\n--b--\r\n"),
    ("multipart/form-data; boundary=b", b"--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a\"\r\n"),
    ("multipart/form-data", b"no boundary"),
    ("text/plain", b"hello"),
]


@pytest.mark.parametrize("path", ["/v1/audio/transcriptions", "/v1/audio/translations", "/v1/audio/speech"])
@pytest.mark.parametrize(("content_type", "body"), MALFORMED)
def test_malformed_requests_are_4xx_in_openai_shape(live: LiveServer, path: str, content_type: str,
                                                    body: bytes) -> None:
    response = httpx.post(live.url + path, content=body, timeout=30,
                          headers={**AUTH, "content-type": content_type})
    assert 400 <= response.status_code < 500, response.text
    assert set(response.json()["error"]) == {"message", "type", "param", "code"}


def test_openai_usage_api_reports_audio(live: LiveServer) -> None:
    project = new_project(live.url, "audio usage")
    _, key = new_key(live.url, project, "usage")
    tenant = openai.OpenAI(base_url=live.url + "/v1", api_key=key, max_retries=0, timeout=60)
    started = int(time.time()) - 60
    spoken = tenant.audio.speech.with_raw_response.create(model=TTS, voice="coral", input="Seventeen letters")
    heard = tenant.audio.translations.with_raw_response.create(model=STT, file=("c.wav", CLIP, "audio/wav"),
                                                               response_format="verbose_json")
    for response in (spoken, heard):
        ledger_entry(live, response.headers["x-request-id"])
    reports = {}
    for name in ("audio_speeches", "audio_transcriptions"):
        page = httpx.get(f"{live.url}/v1/organization/usage/{name}", headers=AUTH, timeout=30,
                         params={"start_time": started, "bucket_width": "1h", "project_ids": project,
                                 "group_by": "model"})
        assert page.status_code == 200, page.text
        reports[name] = [r for bucket in page.json()["data"] for r in bucket["results"]]
    assert reports["audio_speeches"] == [{"object": "organization.usage.audio_speeches.result", "characters": 17,
                                          "num_model_requests": 1, "model": TTS, "project_id": None,
                                          "user_id": None, "api_key_id": None}]
    assert reports["audio_transcriptions"] == [{"object": "organization.usage.audio_transcriptions.result",
                                                "seconds": 3, "num_model_requests": 1, "model": STT,
                                                "project_id": None, "user_id": None, "api_key_id": None}]
