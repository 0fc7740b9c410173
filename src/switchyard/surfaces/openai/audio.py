"""The Audio API: ``POST /v1/audio/transcriptions``, ``/v1/audio/translations`` (multipart
forms; the upload is streamed to disk and deleted once answered) and ``/v1/audio/speech``
(audio bytes streamed as they are synthesised, or ``speech.audio.*`` SSE events)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from switchyard.codecs.openai_audio.speech import MEDIA_TYPES, audio_delta, audio_done, decode_speech
from switchyard.codecs.openai_audio.transcription_in import decode_transcription
from switchyard.codecs.openai_audio.transcription_out import encode_transcript, text_delta, text_done
from switchyard.codecs.openai_chat import error_body
from switchyard.core.audio import (
    Segment,
    Task,
    Transcript,
    TranscriptEvent,
    TranscriptionRequest,
    TranscriptText,
    add,
)
from switchyard.core.errors import SwitchyardError
from switchyard.gateway.auth import Principal, require_model
from switchyard.gateway.metered_audio import speech_tokens
from switchyard.gateway.turn_watch import admit_call, text_tokens
from switchyard.store.blobs import audio_upload_store
from switchyard.surfaces.context import Services, endpoint
from switchyard.surfaces.disconnect import unless_client_leaves
from switchyard.surfaces.http import JSONResponse, read_json, sse_frame, sse_response
from switchyard.surfaces.openai.audio_upload import AudioForm, read_audio_form
from switchyard.surfaces.openai.errors import render_error


def error_frame(error: SwitchyardError) -> bytes:
    """A failure after the stream began: an ``{"error": ...}`` event, which the SDKs raise."""
    return sse_frame(error_body(error))


async def _first(events: AsyncIterator[TranscriptEvent]) -> TranscriptEvent | None:
    """The first event, so that a file the backend cannot read is a 4xx, not a broken stream."""
    return await anext(events, None)


async def _all(first: TranscriptEvent | None, events: AsyncIterator[TranscriptEvent]) -> Transcript:
    transcript = Transcript()
    if first is not None:
        add(transcript, first)
        async for event in events:
            add(transcript, event)
    return transcript


async def _stream(first: TranscriptEvent | None, events: AsyncIterator[TranscriptEvent],
                  form: AudioForm) -> AsyncIterator[bytes]:
    transcript = Transcript()
    try:
        pending = [first] if first is not None else []
        while True:
            event = pending.pop() if pending else await anext(events, None)
            if event is None:
                break
            add(transcript, event)
            if isinstance(event, Segment) and event.text.strip():
                delta = event.text.lstrip() if len(transcript.segments) == 1 else event.text
                yield sse_frame(text_delta(delta))
            elif isinstance(event, TranscriptText) and event.text:
                yield sse_frame(text_delta(event.text))  # the upstream's own delta, as it came
        yield sse_frame(text_done(transcript))
    except SwitchyardError as error:
        yield error_frame(error)
    finally:
        with contextlib.suppress(Exception):
            await events.aclose()  # type: ignore[attr-defined]
        await form.discard()


def _body(transcript: Transcript, call: TranscriptionRequest) -> Response:
    body, media_type = encode_transcript(transcript, call.response_format, call.task, call.words)
    if isinstance(body, dict):
        return JSONResponse(body)
    return Response(body, media_type=media_type)


async def _transcribe(request: Request, services: Services, principal: Principal, task: Task) -> Response:
    form = await read_audio_form(request, audio_upload_store(services.settings.data_dir),
                                 services.settings.max_audio_upload_bytes, task)
    streaming = False
    try:
        call = decode_transcription(form.fields, form.file, task)
        config = services.audio.find(call.model)
        require_model(principal, call.model, *((config.name,) if config is not None else ()))
        transcriber = services.audio.transcriber(call.model)
        await admit_call(call.model, 1)
        events = transcriber.transcribe(call)
        first = await unless_client_leaves(request, _first(events), events)
        if call.stream:
            streaming = True
            return sse_response(_stream(first, events, form))
        transcript = await unless_client_leaves(request, _all(first, events), events)
        return _body(transcript, call)
    finally:
        if not streaming:
            await form.discard()


@endpoint(render_error)
async def create_transcription(request: Request, services: Services, principal: Principal) -> Response:
    return await _transcribe(request, services, principal, "transcribe")


@endpoint(render_error)
async def create_translation(request: Request, services: Services, principal: Principal) -> Response:
    return await _transcribe(request, services, principal, "translate")


async def _audio(first: bytes | None, chunks: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    try:
        if first:
            yield first
        async for chunk in chunks:
            yield chunk
    finally:
        with contextlib.suppress(Exception):
            await chunks.aclose()  # type: ignore[attr-defined]


async def _audio_events(first: bytes | None, chunks: AsyncIterator[bytes], input_tokens: int) -> AsyncIterator[bytes]:
    try:
        async for chunk in _audio(first, chunks):
            yield sse_frame(audio_delta(chunk))
        yield sse_frame(audio_done(input_tokens, 0))
    except SwitchyardError as error:
        yield error_frame(error)


@endpoint(render_error)
async def create_speech(request: Request, services: Services, principal: Principal) -> Response:
    body = await read_json(request, services.settings.max_body_bytes)
    call = decode_speech(body)
    config = services.audio.find(call.model)
    require_model(principal, call.model, *((config.name,) if config is not None else ()))
    speaker = services.audio.speaker(call.model)
    speaker.check(call)
    await admit_call(call.model, text_tokens([call.input]))
    chunks = speaker.speak(call)
    first = await unless_client_leaves(request, anext(chunks, None), chunks)
    if call.sse:
        return sse_response(_audio_events(first, chunks, speech_tokens(call.input)))
    return StreamingResponse(_audio(first, chunks), media_type=MEDIA_TYPES[call.response_format],
                             headers={"X-Content-Type-Options": "nosniff"})


ROUTES: list[Route] = [
    Route("/v1/audio/transcriptions", create_transcription, methods=["POST"]),
    Route("/v1/audio/translations", create_translation, methods=["POST"]),
    Route("/v1/audio/speech", create_speech, methods=["POST"]),
]
