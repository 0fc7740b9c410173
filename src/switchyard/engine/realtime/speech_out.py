"""The spoken half of an audio response: the model's text cut into sentences as it
streams, each sentence spoken by the speech model as soon as it is whole (16-bit PCM at
24 kHz, then in the session's output format), so the first audio goes out while the model is
still writing."""

from __future__ import annotations

import asyncio
import base64
import re
from collections.abc import Awaitable, Callable

from switchyard.codecs.openai_realtime.g711 import Encoder
from switchyard.core.audio import SpeechRequest
from switchyard.gateway.metered_audio import MeteredSpeaker

_END = re.compile(r"[.!?;:]+[\"')\]]*\s+|\n+")
MAX_SENTENCE = 240  # characters; a longer run without an end is cut at a space
CHUNK_BYTES = 24_000 * 2 // 5  # audio deltas of 200 ms at most


class Sentences:
    def __init__(self) -> None:
        self._text = ""

    def add(self, text: str) -> list[str]:
        self._text += text
        out: list[str] = []
        while True:
            match = _END.search(self._text)
            if match is not None:
                cut = match.end()
            elif len(self._text) > MAX_SENTENCE:
                space = self._text.rfind(" ", 0, MAX_SENTENCE)
                cut = space + 1 if space > 0 else MAX_SENTENCE
            else:
                return out
            sentence, self._text = self._text[:cut].strip(), self._text[cut:]
            if sentence:
                out.append(sentence)

    def flush(self) -> list[str]:
        rest, self._text = self._text.strip(), ""
        return [rest] if rest else []


Job = tuple[int, str | None]  # (block index, sentence); None ends the block's audio
AudioOut = Callable[[int, str, int], Awaitable[None]]
EndOut = Callable[[int], Awaitable[None]]


class Voice:
    """Speaks queued sentences one after another; ``audio`` gets each delta (base64, ms)."""

    def __init__(self, speaker: MeteredSpeaker, model: str, voice: str, speed: float, audio: AudioOut,
                 end: EndOut, encode: Encoder) -> None:
        self.speaker = speaker
        self.model = model
        self.voice = voice
        self.speed = speed
        self.audio = audio
        self.end = end
        self.encode = encode  # to the session's output format
        self.jobs: asyncio.Queue[Job | None] = asyncio.Queue()

    def say(self, index: int, sentences: list[str]) -> None:
        for sentence in sentences:
            self.jobs.put_nowait((index, sentence))

    def close_block(self, index: int) -> None:
        self.jobs.put_nowait((index, None))

    def done(self) -> None:
        self.jobs.put_nowait(None)

    async def run(self) -> None:
        while (job := await self.jobs.get()) is not None:
            index, sentence = job
            if sentence is None:
                await self.end(index)
                continue
            request = SpeechRequest(model=self.model, input=sentence, voice=self.voice, response_format="pcm",
                                    speed=self.speed)
            pending = b""
            async for chunk in self.speaker.speak(request):
                pending += chunk
                while len(pending) >= CHUNK_BYTES:
                    piece, pending = pending[:CHUNK_BYTES], pending[CHUNK_BYTES:]
                    await self._send(index, piece)
            if pending:
                await self._send(index, pending[:len(pending) // 2 * 2])

    async def _send(self, index: int, pcm: bytes) -> None:
        data = self.encode(pcm)
        if data:
            await self.audio(index, base64.b64encode(data).decode(), self.encode.ms(data))
