"""Server VAD: an energy detector over 16-bit PCM at 24 kHz.

Audio is judged in 20 ms frames. A frame is loud when its RMS amplitude (full scale 1.0)
is at least ``threshold * LOUDNESS_SCALE`` (the default threshold 0.5 is -34 dBFS, well
under speech and well over a quiet room). Speech starts at the first loud frame and
stops once ``silence_duration_ms`` of frames in a row are quiet; the committed turn runs
from ``prefix_padding_ms`` before the start to the end of the last loud frame plus the
silence. Times are milliseconds since the session's first appended audio."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from switchyard.codecs.openai_realtime.session import Vad

RATE = 24_000
FRAME_MS = 20
FRAME_BYTES = RATE * FRAME_MS // 1000 * 2
LOUDNESS_SCALE = 0.04


@dataclass(frozen=True, slots=True)
class SpeechStarted:
    audio_start_ms: int


@dataclass(frozen=True, slots=True)
class SpeechStopped:
    audio_start_ms: int  # with the prefix padding
    audio_end_ms: int


VadEvent = SpeechStarted | SpeechStopped


class EnergyVad:
    def __init__(self, settings: Vad) -> None:
        self.settings = settings
        self._pending = bytearray()
        self._frames = 0  # frames judged so far
        self._speaking = False
        self._start_frame = 0
        self._quiet = 0  # quiet frames in a row while speaking

    @property
    def ms(self) -> int:
        return self._frames * FRAME_MS

    @property
    def speaking(self) -> bool:
        return self._speaking

    def reset(self) -> None:
        """Forgets any speech in progress (the buffer was cleared or committed by hand)."""
        self._speaking, self._quiet = False, 0

    def feed(self, audio: bytes) -> list[VadEvent]:
        self._pending.extend(audio)
        events: list[VadEvent] = []
        level = self.settings.threshold * LOUDNESS_SCALE
        silence_frames = max(1, self.settings.silence_duration_ms // FRAME_MS)
        while len(self._pending) >= FRAME_BYTES:
            frame = np.frombuffer(bytes(self._pending[:FRAME_BYTES]), dtype="<i2").astype(np.float32) / 32768.0
            del self._pending[:FRAME_BYTES]
            loud = float(np.sqrt(np.mean(frame * frame))) >= level
            self._frames += 1
            if not self._speaking:
                if loud:
                    self._speaking, self._quiet, self._start_frame = True, 0, self._frames - 1
                    events.append(SpeechStarted(max(0, self._start_frame * FRAME_MS
                                                    - self.settings.prefix_padding_ms)))
                continue
            self._quiet = 0 if loud else self._quiet + 1
            if self._quiet >= silence_frames:
                self._speaking = False
                start = max(0, self._start_frame * FRAME_MS - self.settings.prefix_padding_ms)
                events.append(SpeechStopped(start, self._frames * FRAME_MS))
        return events
