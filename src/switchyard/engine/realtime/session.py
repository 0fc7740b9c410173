"""One realtime session: client events in (already decoded), server events out through
``send``. The pure state (conversation, input buffer, whether a response runs) is the
codec's ``SessionState``; this drives it, runs responses and transcriptions as tasks, and
runs server VAD over appended audio. Every bad event is answered with an ``error`` event
naming the field and the client's ``event_id``; the session goes on."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import secrets
import time
from collections.abc import AsyncIterator
from typing import Any

from switchyard.codecs.openai_realtime import client_events as ce
from switchyard.codecs.openai_realtime.conversation import BYTES_PER_MS, Phase, SessionState
from switchyard.codecs.openai_realtime.g711 import Decoder
from switchyard.codecs.openai_realtime.items import decode_item, user_audio_item
from switchyard.codecs.openai_realtime.response_in import decode_response
from switchyard.codecs.openai_realtime.server_events import (
    error_event,
    event,
    transcription_completed,
    transcription_failed,
)
from switchyard.codecs.openai_realtime.session import SessionConfig, apply_update, encode_session
from switchyard.core.errors import ErrorKind, SwitchyardError, invalid
from switchyard.engine.realtime.audio_in import Transcribing, transcribe
from switchyard.engine.realtime.context import RealtimeContext, Send
from switchyard.engine.realtime.response_run import ResponseRun
from switchyard.engine.realtime.vad import FRAME_MS, EnergyVad, Paused, Resumed, SpeechStarted, SpeechStopped, VadEvent

log = logging.getLogger("switchyard")
SESSION_SECONDS = 60 * 60  # a session's lifetime, as OpenAI's
CALLER_CHECK_SECONDS = 5.0
KEEP_TRANSCRIBED = 64  # the items a transcription session keeps (it never sends them to a model)
TRANSCRIPTION_EVENTS = (ce.SessionUpdate, ce.AudioAppend, ce.AudioCommit, ce.AudioClear)


def new_id(prefix: str) -> str:
    """``prefix`` and 20 unguessable characters of [A-Za-z0-9]."""
    while len(chars := secrets.token_urlsafe(24).replace("-", "").replace("_", "")) < 20:
        pass
    return prefix + chars[:20]


class CallerRevoked(Exception):
    """The session's caller may no longer call: the connection closes."""


class RealtimeSession:
    def __init__(self, ctx: RealtimeContext, config: SessionConfig, send: Send, *, pcm_only: bool = False) -> None:
        self.ctx = ctx
        self.pcm_only = pcm_only  # a WebRTC call: its tracks carry the audio, the session stays 24 kHz PCM
        config = self._transport(config)
        self.config = config
        self.send = send
        self.state = SessionState()
        self.id = new_id("sess_")
        self.expires_at = int(time.time()) + SESSION_SECONDS
        self.vad = EnergyVad(config.turn_detection) if config.turn_detection else None
        self.appended_ms = 0.0  # all audio appended this session
        self.speech_item: str | None = None  # the item id promised by speech_started
        self.run: ResponseRun | None = None
        self.tasks: set[asyncio.Task[None]] = set()
        self.transcripts: dict[str, asyncio.Task[None]] = {}  # item id -> its transcription
        self.speculation: Transcribing | None = None  # the turn in progress, transcribed at its last pause
        self.decoder = Decoder(config.input_format)
        self.caller_checked = time.monotonic()

    # --- lifecycle -----------------------------------------------------------------------

    async def start(self) -> None:
        await self.send(event(new_id("event_"), "session.created", session=self._session()))

    async def expire(self) -> None:
        """The session reached its ``expires_at``: an error says so before the socket closes."""
        await self._error(invalid(f"Your session hit the maximum duration of {SESSION_SECONDS // 60} minutes.",
                                  None, "session_expired"), None)

    async def close(self) -> None:
        self._drop_speculation()
        if self.run is not None:
            self.run.cancel("client_cancelled")
        for task in list(self.tasks):
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)

    def _session(self) -> dict[str, Any]:
        return encode_session(self.config, self.id, self.expires_at)

    def _spawn(self, work: Any) -> asyncio.Task[None]:
        task: asyncio.Task[None] = asyncio.create_task(work)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return task

    async def _error(self, error: SwitchyardError, client_event_id: str | None) -> None:
        await self.send(error_event(new_id("event_"), error, client_event_id))

    # --- client events -------------------------------------------------------------------

    async def receive(self, raw: str | bytes) -> None:
        """One client event; raises ``CallerRevoked`` (after an ``error`` event) once the
        caller's key no longer works: the session must end."""
        client_event_id: str | None = None
        try:
            frame = ce.load_frame(raw)
            client_event_id = ce.event_id_of(frame)
            decoded = ce.decode_event(frame)
            if self.config.kind == "transcription" and not isinstance(decoded, TRANSCRIPTION_EVENTS):
                raise invalid("A transcription session takes session.update and input_audio_buffer events only.",
                              "type", "invalid_value")
            await self._check_caller(isinstance(decoded, ce.ResponseCreate), client_event_id)
            await self._handle(decoded)
        except SwitchyardError as error:
            await self._error(error, client_event_id)

    async def _check_caller(self, now: bool, client_event_id: str | None) -> None:
        """Before every response, and every ``CALLER_CHECK_SECONDS`` of other events."""
        if not now and time.monotonic() - self.caller_checked < CALLER_CHECK_SECONDS:
            return
        self.caller_checked = time.monotonic()
        if not await self.ctx.caller_live():
            await self._error(SwitchyardError(
                ErrorKind.AUTHENTICATION, "The API key this session was opened with (or its client secret was made "
                "with) has been revoked, disabled or has expired.", code="invalid_api_key"), client_event_id)
            raise CallerRevoked

    async def _handle(self, ev: ce.ClientEvent) -> None:
        if isinstance(ev, ce.SessionUpdate):
            await self._update(ev.session)
        elif isinstance(ev, ce.ItemCreate):
            item = decode_item(ev.item, new_id("item_"))
            previous = self.state.conversation.add(item, ev.previous_item_id)
            await self.send(event(new_id("event_"), "conversation.item.added", previous_item_id=previous, item=item))
            await self.send(event(new_id("event_"), "conversation.item.done", previous_item_id=previous, item=item))
        elif isinstance(ev, ce.ItemRetrieve):
            item = self.state.conversation.get(ev.item_id)
            await self.send(event(new_id("event_"), "conversation.item.retrieved", item=item))
        elif isinstance(ev, ce.ItemDelete):
            self.state.conversation.delete(ev.item_id)
            await self.send(event(new_id("event_"), "conversation.item.deleted", item_id=ev.item_id))
        elif isinstance(ev, ce.ItemTruncate):
            self.state.conversation.truncate(ev.item_id, ev.content_index, ev.audio_end_ms)
            await self.send(event(new_id("event_"), "conversation.item.truncated", item_id=ev.item_id,
                                  content_index=ev.content_index, audio_end_ms=ev.audio_end_ms))
        elif isinstance(ev, ce.AudioAppend):
            await self._append(ev.audio)
        elif isinstance(ev, ce.AudioCommit):
            self.state.buffer.check_commit()
            self._forget_turn()
            await self._commit(self.state.buffer.take())
        elif isinstance(ev, ce.AudioClear):
            self.state.buffer.clear()
            self._forget_turn()
            await self.send(event(new_id("event_"), "input_audio_buffer.cleared"))
        elif isinstance(ev, ce.OutputAudioClear):
            raise invalid("output_audio_buffer.clear is for WebRTC and SIP connections; over a WebSocket send "
                          "response.cancel and conversation.item.truncate instead.", "type", "invalid_value")
        elif isinstance(ev, ce.ResponseCreate):
            await self._create_response(ev.response)
        elif isinstance(ev, ce.ResponseCancel):
            response_id = self.state.check_cancel(ev.response_id)
            if self.run is not None and self.run.encoder.response_id == response_id:
                self.run.cancel("client_cancelled")

    def _transport(self, config: SessionConfig) -> SessionConfig:
        if self.pcm_only:
            return dataclasses.replace(config, input_format="audio/pcm", output_format="audio/pcm")
        return config

    async def _update(self, session: dict[str, Any]) -> None:
        config = self._transport(apply_update(self.config, session, default_stt=self.ctx.transcription_model))
        if config.model != self.config.model and config.kind == "realtime":
            self.ctx.check_model(config.model)
            self.ctx.models.resolve(config.model)
        if config.audio_out and config.kind == "realtime":
            self._check_speaker()
        if config.transcription is not None and config.transcription != self.config.transcription:
            self._check_transcriber(config.transcription.model)
        if config.turn_detection != self.config.turn_detection:
            self.vad = EnergyVad(config.turn_detection) if config.turn_detection else None
            self.speech_item = None
            self._drop_speculation()
        if config.input_format != self.config.input_format:
            self.decoder = Decoder(config.input_format)
        self.config = config
        await self.send(event(new_id("event_"), "session.updated", session=self._session()))

    def _check_transcriber(self, name: str) -> None:
        try:
            self.ctx.check_model(name)
            self.ctx.audio.transcriber(name)
        except SwitchyardError as error:
            error.param = "session.audio.input.transcription.model"
            raise

    def _check_speaker(self) -> None:
        try:
            self.ctx.audio.speaker(self.ctx.speech_model)
        except SwitchyardError as error:
            raise invalid(f"Audio output needs a speech model, and '{self.ctx.speech_model}' (realtime.speech_model) "
                          f"cannot be used: {error.message}", "session.output_modalities",
                          "speech_model_unavailable") from error

    # --- input audio ---------------------------------------------------------------------

    async def _append(self, audio: bytes) -> None:
        if not self.decoder.bytes_ok(audio):
            raise invalid("Invalid 'audio': 16-bit PCM audio has an even number of bytes.", "audio",
                          "invalid_value")
        pcm = self.decoder(audio)
        self.state.buffer.append(pcm)
        self.appended_ms += len(pcm) / BYTES_PER_MS
        if self.vad is None:
            return
        for found in self.vad.feed(pcm):
            await self._vad_event(found)
        if not self.vad.speaking and self.config.turn_detection is not None:
            # no turn is open: only the padding a next turn would start with is worth keeping
            self.state.buffer.keep_last(self.config.turn_detection.prefix_padding_ms + 2 * FRAME_MS)

    def _turn_audio(self, start_ms: float, end_ms: float) -> bytes:
        """A copy of the buffer's audio between two session times."""
        origin = self.appended_ms - self.state.buffer.ms  # session time of the buffer's start
        first = int(max(0.0, start_ms - origin) * BYTES_PER_MS) // 2 * 2
        last = int(max(0.0, end_ms - origin) * BYTES_PER_MS) // 2 * 2
        return bytes(self.state.buffer.data[first:last])

    async def _vad_event(self, found: VadEvent) -> None:
        if isinstance(found, SpeechStarted):
            self.speech_item = new_id("item_")
            await self.send(event(new_id("event_"), "input_audio_buffer.speech_started",
                                  audio_start_ms=found.audio_start_ms, item_id=self.speech_item))
            if self.run is not None and self.config.turn_detection is not None \
                    and self.config.turn_detection.interrupt_response:
                self.run.cancel("turn_detected")
        elif isinstance(found, Paused):
            self._drop_speculation()
            semantic = self.config.turn_detection is not None and self.config.turn_detection.type == "semantic_vad"
            if not (self.ctx.transcribe_at_pauses or semantic):
                return
            pcm = self._turn_audio(found.audio_start_ms, found.audio_end_ms)
            self.speculation = self._transcription(pcm)
            if semantic:
                self._spawn(self._judge_turn(self.speculation))
        elif isinstance(found, Resumed):
            self._drop_speculation()
        else:
            await self._speech_stopped(found)

    def _forget_turn(self) -> None:
        """The turn in progress ends by hand (committed or cleared): the VAD starts afresh."""
        if self.vad is not None:
            self.vad.reset()
        self._drop_speculation()
        self.speech_item = None

    def _drop_speculation(self) -> None:
        if self.speculation is not None:
            self.speculation.cancel()
            self.speculation = None

    async def _judge_turn(self, heard: Transcribing) -> None:
        """semantic_vad: a transcript of the turn so far that ends a sentence ends the turn
        after the short wait (at once, when that much silence has already come)."""
        await asyncio.wait([heard.task])
        if heard is not self.speculation or self.vad is None or heard.error is not None:
            return
        if heard.text.endswith((".", "?", "!")):
            self.vad.sentence_ended = True
            stopped = self.vad.end_now()
            if stopped is not None:
                try:
                    await self._speech_stopped(stopped)
                except SwitchyardError as error:
                    await self._error(error, None)

    async def _speech_stopped(self, found: SpeechStopped) -> None:
        item_id = self.speech_item or new_id("item_")
        self.speech_item = None
        await self.send(event(new_id("event_"), "input_audio_buffer.speech_stopped",
                              audio_end_ms=found.audio_end_ms, item_id=item_id))
        origin = self.appended_ms - self.state.buffer.ms  # session time of the buffer's start
        pcm = self.state.buffer.take(max(0.0, found.audio_start_ms - origin), found.audio_end_ms - origin)
        heard, self.speculation = self.speculation, None  # the turn as heard at its last pause
        if heard is not None and heard.finished and heard.error is not None:
            heard = None  # it failed: the turn is transcribed again
        await self._commit(pcm, item_id, heard)
        vad = self.config.turn_detection
        if vad is not None and vad.create_response and self.state.phase is Phase.IDLE \
                and self.config.kind == "realtime":
            await self._create_response({})

    def _transcription(self, pcm: bytes) -> Transcribing:
        spec = self.config.transcription
        model = spec.model if spec is not None else self.ctx.transcription_model

        def run() -> AsyncIterator[str]:
            transcriber = self.ctx.audio.transcriber(model)
            return transcribe(transcriber, self.ctx.data_dir / "audio-uploads", pcm, model,
                              spec.language if spec else None, spec.prompt if spec else None)

        return Transcribing(run, self.ctx.call, len(pcm) / BYTES_PER_MS)

    async def _commit(self, pcm: bytes, item_id: str | None = None, heard: Transcribing | None = None) -> None:
        if self.config.kind == "transcription":
            self.state.conversation.forget_before(KEEP_TRANSCRIBED)
        item = user_audio_item(item_id or new_id("item_"))
        previous = self.state.conversation.add(item)
        self.state.conversation.input_audio_ms[item["id"]] = len(pcm) / BYTES_PER_MS
        await self.send(event(new_id("event_"), "input_audio_buffer.committed", previous_item_id=previous,
                              item_id=item["id"]))
        await self.send(event(new_id("event_"), "conversation.item.added", previous_item_id=previous, item=item))
        await self.send(event(new_id("event_"), "conversation.item.done", previous_item_id=previous, item=item))
        self.transcripts[item["id"]] = self._spawn(self._transcribe(item, heard or self._transcription(pcm),
                                                                    len(pcm) / BYTES_PER_MS / 1000))

    async def _transcribe(self, item: dict[str, Any], heard: Transcribing, seconds: float) -> None:
        show = self.config.transcription is not None  # the client asked to see the transcript
        try:
            async for piece in heard.pieces():
                if show:
                    await self.send(event(new_id("event_"), "conversation.item.input_audio_transcription.delta",
                                          item_id=item["id"], content_index=0, delta=piece, logprobs=None))
        except SwitchyardError as error:
            if show:
                await self.send(transcription_failed(new_id("event_"), item["id"], error))
            return
        except asyncio.CancelledError:  # the session closed
            heard.cancel()
            raise
        item["content"][0]["transcript"] = heard.text
        if show:
            await self.send(transcription_completed(new_id("event_"), item["id"], heard.text, seconds))

    # --- responses -----------------------------------------------------------------------

    async def _create_response(self, raw: dict[str, Any]) -> None:
        params = decode_response(raw, self.config, lambda: new_id("item_"))
        response_id = new_id("resp_")
        self.state.begin_response(response_id)
        items = list(params.input) if params.input is not None else None
        run = ResponseRun(self.ctx, response_id, params, [], self.send, new_id,
                          self.state.conversation.last_id(), self._output_item)
        self.run = run
        self._spawn(self._respond(run, items))

    def _output_item(self, item: dict[str, Any], previous: str | None) -> None:
        with contextlib.suppress(SwitchyardError):
            self.state.conversation.add(item)

    async def _respond(self, run: ResponseRun, items: list[dict[str, Any]] | None) -> None:
        try:
            if items is None:
                pending = [task for task in self.transcripts.values() if not task.done()]
                if pending:  # the model needs the user's words
                    await asyncio.gather(*pending, return_exceptions=True)
                items = [dict(item) for item in self.state.conversation.items]
            run.items = items
            heard = self.state.conversation.input_audio_ms
            run.encoder.input_audio_ms = sum(heard.get(item["id"], 0.0) for item in items)
            encoder = await run.run()
            for item_id, ms in encoder.audio_ms.items():
                self.state.conversation.audio_ms[item_id] = ms
        finally:
            self.state.end_response(run.encoder.response_id)
            if self.run is run:
                self.run = None
            self.transcripts = {k: t for k, t in self.transcripts.items() if not t.done()}
