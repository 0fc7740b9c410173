"""Speech to and from an OpenAI-compatible upstream (``provider: openai`` with ``task:
transcription`` or ``speech``): ``{base_url}/audio/transcriptions`` (or ``/translations``)
with the stored upload streamed from disk as a multipart part, and ``{base_url}/audio/speech``
whose audio bytes are passed on as they arrive."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import orjson
from aiohttp.helpers import get_env_proxy_for_url
from yarl import URL

from switchyard.codecs.openai_audio.speech import speech_body
from switchyard.codecs.openai_audio.upstream import transcript_from_upstream, transcription_fields
from switchyard.config import ModelConfig
from switchyard.core.audio import SpeechRequest, TranscriptEvent, TranscriptInfo, TranscriptionRequest
from switchyard.providers.http_upstream import OPENAI_BASE_URL, UpstreamClient, make_client
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


class OpenAITranscriber:
    def __init__(self, config: ModelConfig) -> None:
        self.endpoint = _Endpoint(config)

    async def transcribe(self, request: TranscriptionRequest) -> AsyncIterator[TranscriptEvent]:
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
        try:
            body = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise from_exception(exc) from exc
        transcript = transcript_from_upstream(body, request.language)
        for segment in transcript.segments:
            yield segment
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
