"""Speech to and from an OpenAI-compatible upstream (``provider: openai`` with ``task:
transcription`` or ``speech``): ``{base_url}/audio/transcriptions`` (or ``/translations``)
with the stored upload streamed from disk as a multipart part, and ``{base_url}/audio/speech``
whose audio bytes are passed on as they arrive. A streamed transcription on a model that
streams is asked for as a stream and its text deltas are passed on as they arrive; on one
that cannot (whisper-1) the whole transcript is asked for and its segments are the stream."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import orjson
from aiohttp.helpers import get_env_proxy_for_url
from yarl import URL

from switchyard.codecs.openai_audio.speech import speech_body
from switchyard.codecs.openai_audio.upstream import (
    stream_event,
    stream_fields,
    streams_upstream,
    transcript_from_upstream,
    transcription_fields,
    usage_from_upstream,
)
from switchyard.config import ModelConfig
from switchyard.core.audio import (
    SpeechRequest,
    TranscriptEvent,
    TranscriptInfo,
    TranscriptionRequest,
    TranscriptUsage,
)
from switchyard.core.errors import ErrorKind, SwitchyardError
from switchyard.providers.http_upstream import OPENAI_BASE_URL, UpstreamClient, make_client
from switchyard.providers.sse import SSEParser
from switchyard.providers.upstream_errors import from_exception, from_status

READ_CHUNK = 64 * 1024


class _Endpoint:
    def __init__(self, config: ModelConfig) -> None:
        self.config = config
        self.client: UpstreamClient = make_client(config)
        self.base = (config.base_url or OPENAI_BASE_URL).rstrip("/")
        self.headers = dict(config.headers)
        if config.api_key:
            self.headers["authorization"] = f"Bearer {config.api_key}"

    def post(self, path: str, extra_headers: dict[str, str] | None = None, **kwargs: Any) -> Any:
        url = URL(self.base + path)
        try:
            proxy, proxy_auth = get_env_proxy_for_url(url)
        except LookupError:
            proxy, proxy_auth = None, None
        headers = {**self.headers, **(extra_headers or {})}
        return self.client.session().post(url, headers=headers, proxy=proxy, proxy_auth=proxy_auth, **kwargs)


def _known_duration(request: TranscriptionRequest) -> float | None:
    """The upload's length where PyAV can read it (a streamed answer reports tokens, not
    seconds, and a price per minute needs them)."""
    try:
        from switchyard.providers.audio.decode import probe

        return probe(request.file.path)
    except Exception:  # no PyAV, or a file only the upstream understands
        return None


async def _stream_events(response: aiohttp.ClientResponse) -> AsyncIterator[TranscriptEvent]:
    """The upstream's text deltas and usage; a stream that ends before ``transcript.text.done`` raises."""
    done = False
    parser = SSEParser()
    async for chunk in response.content.iter_any():
        for sse in parser.feed(chunk):
            if sse.data.strip() == b"[DONE]":
                continue
            try:
                decoded = stream_event(orjson.loads(sse.data))
            except orjson.JSONDecodeError as exc:
                raise SwitchyardError(ErrorKind.UPSTREAM, "The upstream's transcription stream sent an "
                                      "event that is not JSON.") from exc
            if decoded is None or isinstance(decoded, TranscriptUsage):
                done = True
            if decoded is not None:
                yield decoded
    if not done:
        raise SwitchyardError(ErrorKind.UPSTREAM, "The upstream's transcription stream ended before "
                              "transcript.text.done.", code="upstream_stream_ended")


def _form(fields: list[tuple[str, str]], request: TranscriptionRequest, audio: Any) -> aiohttp.FormData:
    form = aiohttp.FormData()
    for name, value in fields:
        form.add_field(name, value)
    form.add_field("file", audio, filename=request.file.filename,
                   content_type=request.file.content_type or "application/octet-stream")
    return form


class OpenAITranscriber:
    def __init__(self, config: ModelConfig) -> None:
        self.endpoint = _Endpoint(config)

    def transcribe(self, request: TranscriptionRequest) -> AsyncIterator[TranscriptEvent]:
        if streams_upstream(request, self.endpoint.config.upstream_model):
            return self._streamed(request)
        return self._whole(request)

    async def _streamed(self, request: TranscriptionRequest) -> AsyncIterator[TranscriptEvent]:
        fields = stream_fields(request, self.endpoint.config.upstream_model)
        with request.file.path.open("rb") as audio:
            try:
                response = await self.endpoint.post("/audio/transcriptions", data=_form(fields, request, audio),
                                                    extra_headers={"accept": "text/event-stream"})
            except Exception as exc:
                raise from_exception(exc) from exc
        try:
            if response.status >= 400:
                raise from_status(response.status, await response.read(), response.headers)
            if not response.headers.get("content-type", "").startswith("text/event-stream"):
                async for event in self._answer(request, await response.read()):  # answered whole after all
                    yield event
                return
            async for event in _stream_events(response):
                yield event
            duration = _known_duration(request)
            if duration is not None:
                yield TranscriptInfo(language=request.language or "", duration=duration)
        except SwitchyardError:
            raise
        except Exception as exc:
            raise from_exception(exc) from exc
        finally:
            response.close()

    async def _whole(self, request: TranscriptionRequest) -> AsyncIterator[TranscriptEvent]:
        form = aiohttp.FormData()
        for name, value in transcription_fields(request, self.endpoint.config.upstream_model):
            form.add_field(name, value)
        path = "/audio/transcriptions" if request.task == "transcribe" else "/audio/translations"
        with request.file.path.open("rb") as audio:
            form.add_field("file", audio, filename=request.file.filename,
                           content_type=request.file.content_type or "application/octet-stream")
            try:
                async with self.endpoint.post(path, data=form) as response:
                    status, raw = response.status, await response.read()
            except Exception as exc:
                raise from_exception(exc) from exc
        if status >= 400:
            raise from_status(status, raw, response.headers)
        async for event in self._answer(request, raw):
            yield event

    async def _answer(self, request: TranscriptionRequest, raw: bytes) -> AsyncIterator[TranscriptEvent]:
        try:
            body = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise from_exception(exc) from exc
        transcript = transcript_from_upstream(body, request.language)
        for segment in transcript.segments:
            yield segment
        usage = usage_from_upstream(body.get("usage"))
        if usage is not None:
            yield usage
        yield TranscriptInfo(language=transcript.language, duration=transcript.duration)

    async def aclose(self) -> None:
        await self.endpoint.client.aclose()


class OpenAISpeaker:
    def __init__(self, config: ModelConfig) -> None:
        self.endpoint = _Endpoint(config)

    def check(self, request: SpeechRequest) -> None:
        """The upstream judges voices and speeds itself."""

    async def speak(self, request: SpeechRequest) -> AsyncIterator[bytes]:
        body = orjson.dumps(speech_body(request, self.endpoint.config.upstream_model))
        try:
            response = await self.endpoint.post("/audio/speech", data=body,
                                                extra_headers={"content-type": "application/json"})
        except Exception as exc:
            raise from_exception(exc) from exc
        complete = False
        try:
            if response.status >= 400:
                raw = await response.read()
                complete = True
                raise from_status(response.status, raw, response.headers)
            try:
                async for chunk in response.content.iter_chunked(READ_CHUNK):
                    yield chunk
            except aiohttp.ClientError as exc:
                raise from_exception(exc) from exc
            complete = True
        finally:
            if complete:
                response.release()
            else:
                response.close()

    async def aclose(self) -> None:
        await self.endpoint.client.aclose()
