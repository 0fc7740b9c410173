"""The energy VAD on synthetic audio: silence, a tone, silence; where speech starts and
stops (with the prefix padding), how the threshold and the silence length move them."""

from __future__ import annotations

import numpy as np

from switchyard.codecs.openai_realtime.session import Vad
from switchyard.engine.realtime.vad import EnergyVad, Paused, Resumed, SpeechStarted, SpeechStopped

RATE = 24_000


def pcm(*parts: tuple[float, float]) -> bytes:
    """(seconds, amplitude) pieces of a 220 Hz tone (amplitude 0: silence)."""
    out = []
    for seconds, amplitude in parts:
        t = np.arange(int(seconds * RATE)) / RATE
        out.append((np.sin(2 * np.pi * 220 * t) * amplitude * 32767).astype("<i2"))
    return np.concatenate(out).tobytes()


def events(vad: EnergyVad, audio: bytes, chunk: int = 4800) -> list[object]:
    found: list[object] = []
    for start in range(0, len(audio), chunk):
        found += vad.feed(audio[start:start + chunk])
    return found


def test_a_tone_between_silences_is_one_turn() -> None:
    found = events(EnergyVad(Vad()), pcm((1.0, 0), (1.0, 0.3), (1.0, 0)))
    # 300 ms padding; a pause reported after 200 ms of silence, the turn's end after 500 ms
    assert found == [SpeechStarted(700), Paused(700, 2200), SpeechStopped(700, 2500)]


def test_quiet_audio_under_the_threshold_is_not_speech() -> None:
    assert events(EnergyVad(Vad()), pcm((0.5, 0), (1.0, 0.01), (1.0, 0))) == []
    assert events(EnergyVad(Vad(threshold=0.1)), pcm((0.5, 0), (1.0, 0.01), (1.0, 0)))[0] == SpeechStarted(200)


def test_a_short_pause_does_not_end_the_turn() -> None:
    audio = pcm((0.5, 0), (0.5, 0.3), (0.2, 0), (0.5, 0.3), (1.0, 0))
    assert events(EnergyVad(Vad(silence_duration_ms=400)), audio) == [
        SpeechStarted(200), Paused(200, 1200), Resumed(), Paused(200, 1900), SpeechStopped(200, 2100)]
    assert len(events(EnergyVad(Vad(silence_duration_ms=100)), audio)) == 4
