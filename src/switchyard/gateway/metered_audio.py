"""Speech calls counted for the request running in their context, like model turns
(``metered_calls.py``): one call per request, its usage in tokens (the upstream's when it
reports them, else the transcript's text or the text spoken, counted locally, so a token
price applies) plus the seconds of audio transcribed and the characters spoken, which the
ledger keeps beside the tokens. The cost adds the model's audio prices: per minute heard,
per million characters spoken, per minute of speech made (measured from the audio sent)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from switchyard.config import ModelConfig
from switchyard.core.audio import (
    Segment,
    SpeechRequest,
    TranscriptEvent,
    TranscriptInfo,
    TranscriptionRequest,
    TranscriptText,
    TranscriptUsage,
)
from switchyard.core.errors import SwitchyardError
from switchyard.core.usage import Usage
from switchyard.gateway.meter import Call, Meter
from switchyard.gateway.metered_calls import error_outcome
from switchyard.gateway.metering import current_meter
from switchyard.gateway.prices import audio_nanousd, cost_nanousd, nano_to_usd, worst_case_nanousd
from switchyard.gateway.telemetry.request_trace import observe_cost
from switchyard.gateway.turn_watch import note_usage
from switchyard.providers.audio.duration import spoken_ms
from switchyard.providers.base import Speaker, Transcriber
from switchyard.providers.token_count import count_text


def speech_tokens(text: str) -> int:
    """The tokens a speech request is counted for (its input text, counted locally)."""
    return count_text(text)


def _failed(call: Call, error: BaseException, meter: Meter) -> None:
    if isinstance(error, SwitchyardError):
        if call.outcome == "completed":
            call.outcome, call.error_code = error_outcome(error), error.code or error.kind.value
    elif isinstance(error, asyncio.CancelledError | GeneratorExit):
        call.outcome = meter.left_outcome


def _end(call: Call, config: ModelConfig, meter: Meter, spoken: int = 0) -> None:
    note_usage(call.usage)  # the rate limiter's token count and the token metrics
    call.cost_nanousd = (cost_nanousd(config.price, call.usage)
                         + audio_nanousd(config.price, call.audio_ms, call.characters, spoken))
    observe_cost(nano_to_usd(call.cost_nanousd), config.name)
    meter.end_call(call)


class MeteredTranscriber:
    def __init__(self, inner: Transcriber, config: ModelConfig) -> None:
        self.inner = inner
        self.config = config

    def transcribe(self, request: TranscriptionRequest) -> AsyncIterator[TranscriptEvent]:
        meter = current_meter()
        if meter is None:
            return self.inner.transcribe(request)
        return self._metered(meter, request)

    async def _metered(self, meter: Meter, request: TranscriptionRequest) -> AsyncIterator[TranscriptEvent]:
        call = meter.open_call("transcriptions", self.config.name)  # translations too, as OpenAI's Usage API
        text: list[str] = []
        reported: Usage | None = None
        try:
            await meter.reserve(call, self.config.price,
                                lambda: worst_case_nanousd(self.config.price, 0, meter.config.reserve_output_tokens))
            async for event in self.inner.transcribe(request):
                if isinstance(event, Segment | TranscriptText):
                    if not text:
                        meter.first_token()
                    text.append(event.text)
                elif isinstance(event, TranscriptInfo):
                    call.audio_ms = round(event.duration * 1000)
                elif isinstance(event, TranscriptUsage):
                    reported = event.usage
                yield event
        except BaseException as error:
            _failed(call, error, meter)
            raise
        finally:
            if reported is not None:
                call.usage = reported
            else:
                call.usage = Usage(output_tokens=count_text("".join(text)) if text else 0)
                call.counted = True
            _end(call, self.config, meter)

    async def aclose(self) -> None:
        await self.inner.aclose()


class MeteredSpeaker:
    def __init__(self, inner: Speaker, config: ModelConfig) -> None:
        self.inner = inner
        self.config = config

    def check(self, request: SpeechRequest) -> None:
        self.inner.check(request)

    def speak(self, request: SpeechRequest) -> AsyncIterator[bytes]:
        meter = current_meter()
        if meter is None:
            return self.inner.speak(request)
        return self._metered(meter, request)

    async def _metered(self, meter: Meter, request: SpeechRequest) -> AsyncIterator[bytes]:
        call = meter.open_call("speeches", self.config.name)
        tokens = speech_tokens(request.input)
        call.characters = len(request.input)
        first = True
        kept: list[bytes] | None = [] if self.config.price.output_per_minute else None
        try:
            await meter.reserve(call, self.config.price, lambda: worst_case_nanousd(self.config.price, tokens, 0)
                                + audio_nanousd(self.config.price, characters=call.characters))
            async for chunk in self.inner.speak(request):
                if first:
                    meter.first_token()
                    first = False
                if kept is not None:
                    kept.append(chunk)
                yield chunk
        except BaseException as error:
            _failed(call, error, meter)
            raise
        finally:
            call.usage, call.counted = Usage(input_tokens=tokens), True
            spoken = spoken_ms(b"".join(kept), request.response_format) if kept else 0
            _end(call, self.config, meter, spoken)

    async def aclose(self) -> None:
        await self.inner.aclose()
