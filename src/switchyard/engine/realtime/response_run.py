"""One realtime response: the conversation (or the response's own input) as a canonical
request on the session's chat model, through the gateway's routing, limits and metering
(``engine.generation``), its events encoded as GA server events; in an audio response the
text is also spoken sentence by sentence. A cancel stops the model and the voice at once
and the response ends ``cancelled``."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

from switchyard.codecs.openai_realtime.g711 import Encoder
from switchyard.codecs.openai_realtime.items import to_canonical
from switchyard.codecs.openai_realtime.response_in import ResponseParams
from switchyard.codecs.openai_realtime.response_out import ResponseEncoder
from switchyard.codecs.openai_realtime.server_events import error_event, rate_limits
from switchyard.core.errors import ErrorKind, SwitchyardError
from switchyard.core.events import BlockStart, BlockStop, Failure, TextDelta
from switchyard.core.items import Message, TextPart
from switchyard.core.request import Request
from switchyard.engine.generation import generate
from switchyard.engine.realtime.context import RealtimeContext, Send
from switchyard.engine.realtime.speech_out import Sentences, Voice

log = logging.getLogger("switchyard")


def model_request(params: ResponseParams, items: list[dict[str, Any]]) -> Request:
    config = params.config
    canonical = [Message("system", [TextPart(config.instructions)]), *to_canonical(items)] if config.instructions \
        else to_canonical(items)
    return Request(model=config.model, items=canonical, tools=list(config.tools),
                   tool_choice=config.tool_choice if config.tools else None,
                   parallel_tool_calls=config.parallel_tool_calls, max_output_tokens=config.max_output_tokens,
                   stream=True)


class ResponseRun:
    def __init__(self, ctx: RealtimeContext, response_id: str, params: ResponseParams, items: list[dict[str, Any]],
                 send: Send, new_id: Callable[[str], str], previous_item_id: str | None,
                 on_item: Callable[[dict[str, Any], str | None], None]) -> None:
        self.ctx = ctx
        self.params = params
        self.items = items
        self.send = send
        self.new_id = new_id
        self.on_item = on_item  # an output item entered the conversation (after the given id)
        self.encoder = ResponseEncoder(response_id, new_id, audio=params.config.audio_out, voice=params.config.voice,
                                       max_output_tokens=params.config.max_output_tokens, metadata=params.metadata,
                                       previous_item_id=previous_item_id, in_conversation=params.in_conversation,
                                       output_format=params.config.output_format)
        self.cancel_reason: str | None = None
        self._work: asyncio.Task[None] | None = None
        self._known = 0

    def cancel(self, reason: str) -> None:
        if self.cancel_reason is None:
            self.cancel_reason = reason
            if self._work is not None:
                self._work.cancel()

    async def _emit(self, events: list[dict[str, Any]]) -> None:
        while self._known < len(self.encoder.items):  # new output items enter the conversation first
            item = self.encoder.items[self._known]
            self._known += 1
            if self.params.in_conversation:
                self.on_item(item, None)
        for event in events:
            await self.send(event)

    async def run(self) -> ResponseEncoder:
        """The whole response, ``response.created`` to ``response.done``."""
        await self._emit(self.encoder.created())
        async with self.ctx.call() as trace:
            try:
                if self.cancel_reason is None:  # not cancelled while it waited for a transcript
                    self._work = asyncio.create_task(self._generate())
                    await self._work
            except asyncio.CancelledError:
                if self.cancel_reason is None:
                    raise
            except SwitchyardError as error:
                self.encoder.failure = error
                await self.send(error_event(self.new_id("event_"), error, None))
            except Exception:
                log.exception("unhandled error in a realtime response")
                self.encoder.failure = SwitchyardError(ErrorKind.SERVER, "Internal server error.")
            await self._emit(self.encoder.finish(self.cancel_reason))
        await self._rate_limits(trace)
        return self.encoder

    async def _rate_limits(self, trace: Any) -> None:
        admission = getattr(trace, "admission", None)
        limits: list[tuple[str, int, int, float]] = []
        if admission is not None:
            for name, window in (("requests", admission.decision.requests), ("tokens", admission.decision.tokens)):
                if window is not None:
                    limits.append((name, window.limit, window.remaining, window.reset_seconds))
        await self.send(rate_limits(self.new_id("event_"), limits))

    async def _generate(self) -> None:
        config = self.params.config
        self.ctx.check_model(config.model)
        route = self.ctx.models.resolve(config.model)
        request = model_request(self.params, self.items)
        voice: Voice | None = None
        speaking: asyncio.Task[None] | None = None
        if config.audio_out:
            speaker = self.ctx.audio.speaker(self.ctx.speech_model)
            voice = Voice(speaker, self.ctx.speech_model, config.voice, config.speed, self._audio, self._end_audio,
                          Encoder(config.output_format))
            speaking = asyncio.create_task(voice.run())
        sentences: dict[int, Sentences] = {}
        events = generate(route, request)
        try:
            async for event in events:
                if isinstance(event, Failure):
                    raise event.error
                await self._emit(self.encoder.feed(event))
                if voice is None:
                    continue
                if isinstance(event, BlockStart) and event.kind in ("text", "refusal"):
                    sentences[event.index] = Sentences()
                elif isinstance(event, TextDelta) and event.index in sentences:
                    voice.say(event.index, sentences[event.index].add(event.text))
                elif isinstance(event, BlockStop) and event.index in sentences:
                    voice.say(event.index, sentences.pop(event.index).flush())
                    voice.close_block(event.index)
            if voice is not None and speaking is not None:
                voice.done()
                await speaking
        finally:
            if speaking is not None and not speaking.done():
                speaking.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await speaking
            with contextlib.suppress(Exception):
                await events.aclose()  # type: ignore[attr-defined]

    async def _audio(self, index: int, delta: str, ms: int) -> None:
        await self._emit(self.encoder.audio(index, delta, ms))

    async def _end_audio(self, index: int) -> None:
        await self._emit(self.encoder.end_audio(index))
