"""G.711 in the realtime codec against the ITU reference algorithm (``tests/e2e/g711_reference``,
sample by sample), and the 8 kHz <-> 24 kHz resampling: a tone keeps its level and pitch
through both directions, chunk by chunk, and what is above 4 kHz does not fold back."""

from __future__ import annotations

import numpy as np

from switchyard.codecs.openai_realtime.g711 import (
    Decoder,
    Encoder,
    alaw_decode,
    alaw_encode,
    ulaw_decode,
    ulaw_encode,
)
from tests.e2e import g711_reference as ref

EVERY_SAMPLE = np.arange(-32768, 32768, dtype=np.int32).astype(np.int16)
EVERY_BYTE = bytes(range(256))


def test_companding_matches_the_reference_for_every_sample_and_byte() -> None:
    step = EVERY_SAMPLE[::5]  # every fifth sample: the reference is pure Python
    assert ulaw_encode(step) == bytes(ref.linear_to_ulaw(int(x)) for x in step)
    assert alaw_encode(step) == bytes(ref.linear_to_alaw(int(x)) for x in step)
    assert ulaw_decode(EVERY_BYTE).tolist() == [ref.ulaw_to_linear(b) for b in EVERY_BYTE]
    assert alaw_decode(EVERY_BYTE).tolist() == [ref.alaw_to_linear(b) for b in EVERY_BYTE]
    assert ulaw_decode(b"\xff").tolist() == [0] and alaw_decode(b"\xd5").tolist() == [8]


def _tone(hz: float, seconds: float, rate: int, amplitude: float = 8000) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return (np.sin(2 * np.pi * hz * t) * amplitude).astype("<i2")


def _peak_hz(samples: np.ndarray, rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(samples.astype(np.float64) * np.hanning(len(samples))))
    return float(np.fft.rfftfreq(len(samples), 1 / rate)[int(np.argmax(spectrum))])


def _rms(samples: np.ndarray) -> float:
    return float(np.sqrt(np.mean(samples.astype(np.float64) ** 2)))


def test_a_tone_keeps_its_level_and_pitch_through_both_directions_chunk_by_chunk() -> None:
    for fmt in ("audio/pcmu", "audio/pcma"):
        pcm = _tone(440, 1.0, 24000).tobytes()
        encode, decode = Encoder(fmt), Decoder(fmt)
        narrow = b"".join(encode(pcm[i:i + 962]) for i in range(0, len(pcm), 962))  # odd chunk sizes
        assert abs(len(narrow) - 8000) <= 1 and encode.ms(narrow) == len(narrow) // 8
        wide = b"".join(decode(narrow[i:i + 161]) for i in range(0, len(narrow), 161))
        assert len(wide) == 2 * 3 * len(narrow)
        back = np.frombuffer(wide, dtype="<i2")[2400:]  # past the filters' delay
        assert abs(_rms(back) - 8000 / np.sqrt(2)) < 0.05 * 8000 / np.sqrt(2)
        assert abs(_peak_hz(back, 24000) - 440) < 5


def test_what_is_above_the_narrow_band_does_not_fold_back() -> None:
    encode = Encoder("audio/pcmu")
    narrow = ulaw_decode(encode(_tone(7000, 1.0, 24000).tobytes()))  # 7 kHz would alias to 1 kHz at 8 kHz
    assert _rms(narrow[400:]) < 0.02 * 8000
    assert Decoder("audio/pcm")(b"\x01\x02") == b"\x01\x02" and not Decoder("audio/pcm").bytes_ok(b"\x01")
