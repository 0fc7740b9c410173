"""The length of speech made, for a price per minute: PCM by its size, other formats as
PyAV decodes them (a WAV file written by the standard library's ``wave``)."""

from __future__ import annotations

import io
import wave

from switchyard.providers.audio.duration import spoken_ms


def _wav(seconds: float, rate: int) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(b"\x00\x01" * int(seconds * rate))
    return buffer.getvalue()


def test_pcm_is_measured_by_its_size() -> None:
    assert spoken_ms(b"\x00" * 48_000 * 3, "pcm") == 3000


def test_a_wav_file_is_measured_by_its_samples() -> None:
    assert spoken_ms(_wav(1.5, 16_000), "wav") == 1500
    assert spoken_ms(_wav(0.25, 24_000), "wav") == 250


def test_audio_that_cannot_be_decoded_measures_nothing() -> None:
    assert spoken_ms(b"not audio at all" * 10, "mp3") == 0
    assert spoken_ms(b"", "mp3") == 0
