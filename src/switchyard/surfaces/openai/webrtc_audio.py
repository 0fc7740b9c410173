"""Audio between a WebRTC peer's tracks and a realtime session's 16-bit mono PCM at 24 kHz:
the caller's decoded frames resampled down (``MicrophoneIn``), and the session's speech
paced out in 20 ms frames (``SpeakerTrack``) with what has been played counted, so an
interruption can say where the answer was cut."""

from __future__ import annotations

import asyncio
import fractions
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass

import av
import numpy as np
from aiortc import MediaStreamTrack

RATE = 24000
FRAME_SAMPLES = RATE // 50  # 20 ms
FRAME_BYTES = FRAME_SAMPLES * 2
TIME_BASE = fractions.Fraction(1, RATE)


class MicrophoneIn:
    """The caller's frames (any rate and layout the decoder gives) as session PCM."""

    def __init__(self) -> None:
        self._resampler = av.AudioResampler(format="s16", layout="mono", rate=RATE)

    def convert(self, frame: av.AudioFrame) -> bytes:
        return b"".join(bytes(out.to_ndarray().astype(np.int16).tobytes())
                        for out in self._resampler.resample(frame))


@dataclass(slots=True)
class Playing:
    """The answer being spoken: where its audio belongs and how much was heard."""

    response_id: str
    item_id: str
    content_index: int
    played_bytes: int = 0
    finished: bool = False  # the response is done: when the queue empties, the audio has stopped


Stopped = Callable[[Playing], Coroutine[None, None, None]]


class SpeakerTrack(MediaStreamTrack):
    """The session's speech, sent to the peer in real time (silence between answers)."""

    kind = "audio"

    def __init__(self, on_stopped: Stopped) -> None:
        super().__init__()
        self._queue = bytearray()
        self._sent = 0
        self._start: float | None = None
        self._on_stopped = on_stopped
        self.playing: Playing | None = None

    def push(self, response_id: str, item_id: str, content_index: int, pcm: bytes) -> bool:
        """Queue an answer's audio; True when it is the first of a new answer."""
        new = self.playing is None or self.playing.response_id != response_id or self.playing.item_id != item_id
        if new:
            self.playing = Playing(response_id, item_id, content_index)
        self._queue += pcm
        return new

    def finish(self, response_id: str) -> None:
        if self.playing is not None and self.playing.response_id == response_id:
            self.playing.finished = True

    def clear(self) -> Playing | None:
        """Drop what has not been played; the answer that was cut, if one was playing."""
        cut, self.playing = self.playing, None
        self._queue.clear()
        return cut

    async def recv(self) -> av.AudioFrame:
        if self._start is None:
            self._start = time.monotonic()
        wait = self._start + self._sent / RATE - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)
        chunk = bytes(self._queue[:FRAME_BYTES])
        del self._queue[:FRAME_BYTES]
        playing = self.playing
        if playing is not None:
            playing.played_bytes += len(chunk)
            if not self._queue and playing.finished:
                self.playing = None
                asyncio.get_running_loop().create_task(self._on_stopped(playing))
        samples = np.frombuffer(chunk.ljust(FRAME_BYTES, b"\0"), dtype=np.int16).reshape(1, -1)
        frame = av.AudioFrame.from_ndarray(samples, format="s16", layout="mono")
        frame.sample_rate = RATE
        frame.pts = self._sent
        frame.time_base = TIME_BASE
        self._sent += FRAME_SAMPLES
        return frame
