"""A scripted OpenAI audio API on loopback: ``/v1/audio/transcriptions`` and
``/translations`` read a multipart form (recorded with the file's bytes) and answer a
transcript in the format asked for (json or verbose_json, as OpenAI's whisper-1 does);
``/v1/audio/speech`` records its JSON body and answers the scripted audio bytes in several
chunks. ``fail`` makes the next request answer an OpenAI error instead.

A transcription asked with ``stream=true`` of a model other than whisper (which ignores it,
as OpenAI's whisper-1 does) is answered as OpenAI's gpt-4o-transcribe streams: SSE events
``transcript.text.delta`` (a few characters each, with logprobs) then ``transcript.text.done``
with the text and the token usage. ``break_stream_after(n)`` makes the next stream drop the
connection after n deltas."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from tests.fakes.loopback import Loopback

SEGMENTS = [
    {"text": " Relayed speech is here.", "start": 0.0, "end": 1.5},
    {"text": " And a second sentence.", "start": 1.5, "end": 3.25},
]
WORDS = [("Relayed", 0.0, 0.4), ("speech", 0.4, 0.8), ("is", 0.8, 1.0), ("here.", 1.0, 1.5),
         ("And", 1.5, 1.8), ("a", 1.8, 1.9), ("second", 1.9, 2.4), ("sentence.", 2.4, 3.25)]
AUDIO = b"ID3\x04\x00\x00fake-mp3-" + bytes(range(256)) * 64
STREAM_USAGE = {"type": "tokens", "input_tokens": 113, "input_token_details": {"text_tokens": 7, "audio_tokens": 106},
                "output_tokens": 11, "total_tokens": 124}


@dataclass
class Heard:
    path: str
    headers: dict[str, str]
    fields: dict[str, list[str]] = field(default_factory=dict)
    file: bytes | None = None
    filename: str | None = None
    json: Any = None


class FakeAudioUpstream(Loopback):
    def __init__(self) -> None:
        super().__init__("fake-audio-upstream")
        self.heard: list[Heard] = []
        self.failures: list[tuple[int, dict[str, Any]]] = []
        self.break_after: int | None = None
        self.delta_pause = 0.0  # seconds between deltas

    def fail(self, status: int, message: str, code: str | None = None, param: str | None = None) -> None:
        self.failures.append((status, {"error": {"message": message, "type": "invalid_request_error",
                                                 "param": param, "code": code}}))

    def reset(self) -> None:
        self.heard.clear()
        self.failures.clear()
        self.break_after = None
        self.delta_pause = 0.0

    def break_stream_after(self, deltas: int) -> None:
        self.break_after = deltas

    def _stream(self, text: str) -> Response:
        pieces = [text[i:i + 6] for i in range(0, len(text), 6)]
        broken, self.break_after = self.break_after, None

        async def events() -> Any:
            for number, piece in enumerate(pieces):
                if broken is not None and number == broken:
                    raise ConnectionResetError("upstream died mid-stream")
                delta = {"type": "transcript.text.delta", "delta": piece,
                         "logprobs": [{"token": piece, "logprob": -0.01, "bytes": list(piece.encode())}]}
                yield b"data: " + orjson.dumps(delta) + b"\n\n"
                await asyncio.sleep(self.delta_pause)
            done = {"type": "transcript.text.done", "text": text, "usage": STREAM_USAGE}
            yield b"data: " + orjson.dumps(done) + b"\n\n"

        return StreamingResponse(events(), media_type="text/event-stream")

    def _failure(self) -> Response | None:
        if not self.failures:
            return None
        status, body = self.failures.pop(0)
        return Response(orjson.dumps(body), status_code=status, media_type="application/json")

    async def _transcribe(self, request: Request) -> Response:
        form = await request.form()
        heard = Heard(request.url.path, dict(request.headers))
        for name, value in form.multi_items():
            if isinstance(value, str):
                heard.fields.setdefault(name, []).append(value)
            else:
                heard.file, heard.filename = await value.read(), value.filename
        self.heard.append(heard)
        failure = self._failure()
        if failure is not None:
            return failure
        text = "".join(s["text"] for s in SEGMENTS).strip()
        if heard.fields.get("stream") == ["true"] and not heard.fields["model"][0].startswith("whisper"):
            return self._stream(text)
        if heard.fields.get("response_format") != ["verbose_json"]:
            return Response(orjson.dumps({"text": text, "usage": {"type": "duration", "seconds": 4}}),
                            media_type="application/json")
        body: dict[str, Any] = {
            "task": "translate" if request.url.path.endswith("translations") else "transcribe",
            "language": "english", "duration": 3.25, "text": text,
            "segments": [{"id": i, "seek": 0, "tokens": [50364, 100 + i], "temperature": 0.0, "avg_logprob": -0.2,
                          "compression_ratio": 1.1, "no_speech_prob": 0.01, **s} for i, s in enumerate(SEGMENTS)],
        }
        if "word" in heard.fields.get("timestamp_granularities[]", []):
            body["words"] = [{"word": w, "start": s, "end": e} for w, s, e in WORDS]
        return Response(orjson.dumps(body), media_type="application/json")

    async def _speech(self, request: Request) -> Response:
        self.heard.append(Heard(request.url.path, dict(request.headers), json=orjson.loads(await request.body())))
        failure = self._failure()
        if failure is not None:
            return failure

        async def chunks() -> Any:
            for start in range(0, len(AUDIO), 4096):
                yield AUDIO[start:start + 4096]
                await asyncio.sleep(0)

        return StreamingResponse(chunks(), media_type="audio/mpeg")

    def start(self) -> None:
        self.serve(Starlette(routes=[
            Route("/v1/audio/transcriptions", self._transcribe, methods=["POST"]),
            Route("/v1/audio/translations", self._transcribe, methods=["POST"]),
            Route("/v1/audio/speech", self._speech, methods=["POST"]),
        ]))
