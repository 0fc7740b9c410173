"""Turn detection over 16-bit PCM at 24 kHz: an energy detector, for ``server_vad`` and
``semantic_vad`` alike.

Audio is judged in 20 ms frames. A frame is loud when its RMS amplitude (full scale 1.0)
is at least ``threshold * LOUDNESS_SCALE`` (the default threshold 0.5 is -34 dBFS, well
under speech and well over a quiet room). Speech starts at the first loud frame. Once
``PAUSE_MS`` of frames in a row are quiet the detector reports a pause (the session
starts transcribing the turn so far then, so the transcript is ready sooner); a loud
frame after that reports that speech resumed. The turn ends:

- ``server_vad``: after ``silence_duration_ms`` of quiet frames in a row;
- ``semantic_vad``: after the eagerness's short wait when the transcript of the turn so far
  ends a sentence (``.``, ``?``, ``!``: the session says so with ``sentence_ended``), else
  after its long wait (``SEMANTIC_WAITS``).

The committed turn runs from ``prefix_padding_ms`` before the start to the end. Times are
milliseconds since the session's first appended audio."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from switchyard.codecs.openai_realtime.session import Vad

RATE = 24_000
FRAME_MS = 20
FRAME_BYTES = RATE * FRAME_MS // 1000 * 2
LOUDNESS_SCALE = 0.04
PAUSE_MS = 200
# eagerness -> (ms of silence once the turn's transcript ends a sentence, ms of silence otherwise)
SEMANTIC_WAITS = {"high": (200, 2000), "auto": (500, 4000), "medium": (500, 4000), "low": (1000, 8000)}


@dataclass(frozen=True, slots=True)
class SpeechStarted:
    audio_start_ms: int


@dataclass(frozen=True, slots=True)
class Paused:
    audio_start_ms: int  # with the prefix padding
    audio_end_ms: int


@dataclass(frozen=True, slots=True)
class Resumed:
    pass


@dataclass(frozen=True, slots=True)
class SpeechStopped:
    audio_start_ms: int  # with the prefix padding
    audio_end_ms: int


VadEvent = SpeechStarted | Paused | Resumed | SpeechStopped


class EnergyVad:
    def __init__(self, settings: Vad) -> None:
        self.settings = settings
        self._pending = bytearray()
        self._frames = 0  # frames judged so far
        self._speaking = False
        self._paused = False
        self._start_frame = 0
        self._quiet = 0  # quiet frames in a row while speaking
        self.sentence_ended = False  # semantic_vad: the transcript so far ends a sentence

    @property
    def ms(self) -> int:
        return self._frames * FRAME_MS

    @property
    def speaking(self) -> bool:
        return self._speaking

    def _silence_frames(self) -> int:
        if self.settings.type == "semantic_vad":
            short, long = SEMANTIC_WAITS[self.settings.eagerness]
            wait = short if self.sentence_ended else long
        else:
            wait = self.settings.silence_duration_ms
        return max(1, wait // FRAME_MS)

    def reset(self) -> None:
        """Forgets any speech in progress (the buffer was cleared or committed by hand)."""
        self._speaking, self._paused, self._quiet, self.sentence_ended = False, False, 0, False

    def _start_ms(self) -> int:
        return max(0, self._start_frame * FRAME_MS - self.settings.prefix_padding_ms)

    def _stop(self) -> SpeechStopped:
        self.reset()
        return SpeechStopped(self._start_ms(), self._frames * FRAME_MS)

    def end_now(self) -> SpeechStopped | None:
        """The turn's end, when the silence so far is already long enough (``sentence_ended``
        changed after the audio was judged)."""
        if self._speaking and self._quiet >= self._silence_frames():
            return self._stop()
        return None

    def feed(self, audio: bytes) -> list[VadEvent]:
        self._pending.extend(audio)
        events: list[VadEvent] = []
        level = self.settings.threshold * LOUDNESS_SCALE
        pause_frames = PAUSE_MS // FRAME_MS
        while len(self._pending) >= FRAME_BYTES:
            frame = np.frombuffer(bytes(self._pending[:FRAME_BYTES]), dtype="<i2").astype(np.float32) / 32768.0
            del self._pending[:FRAME_BYTES]
            loud = float(np.sqrt(np.mean(frame * frame))) >= level
            self._frames += 1
            if not self._speaking:
                if loud:
                    self._speaking, self._quiet, self._start_frame = True, 0, self._frames - 1
                    events.append(SpeechStarted(self._start_ms()))
                continue
            if loud:
                self._quiet = 0
                if self._paused:
                    self._paused, self.sentence_ended = False, False
                    events.append(Resumed())
                continue
            self._quiet += 1
            if self._quiet >= self._silence_frames():
                events.append(self._stop())
            elif self._quiet == pause_frames:
                self._paused = True
                events.append(Paused(self._start_ms(), self._frames * FRAME_MS))
        return events
