"""G.711 audio (``audio/pcmu``: μ-law, ``audio/pcma``: A-law; 8 kHz, one byte a sample)
to and from the 16-bit PCM at 24 kHz a session works in. The companding follows ITU-T
G.711 (μ-law on 14-bit samples with bias 0x21; A-law with even bits inverted, 0x55); the
rate changes by exactly 3 with a windowed-sinc low-pass filter (63 taps at 24 kHz, cut at
3.6 kHz), so that neither side aliases. Each direction keeps its filter's history, so a
stream converted chunk by chunk has no seams."""

from __future__ import annotations

from typing import Literal

import numpy as np
import numpy.typing as npt

Format = Literal["audio/pcm", "audio/pcmu", "audio/pcma"]
FORMATS: tuple[Format, ...] = ("audio/pcm", "audio/pcmu", "audio/pcma")
Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int16]

_BIAS = 0x84
_TAPS = 63
_CUTOFF = 3600 / 24_000  # cycles per sample at 24 kHz


def _kernel() -> Floats:
    n = np.arange(_TAPS) - (_TAPS - 1) / 2
    taps: Floats = 2 * _CUTOFF * np.sinc(2 * _CUTOFF * n) * np.blackman(_TAPS)
    normalised: Floats = taps / taps.sum()
    return normalised


_KERNEL = _kernel()


def ulaw_decode(data: bytes) -> Ints:
    u = ~np.frombuffer(data, dtype=np.uint8).astype(np.int32) & 0xFF
    exponent = (u >> 4) & 0x07
    magnitude = (((u & 0x0F) << 3) + _BIAS) << exponent
    sample = np.where(u & 0x80, _BIAS - magnitude, magnitude - _BIAS)
    return sample.astype(np.int16)


def ulaw_encode(pcm: Ints) -> bytes:
    s = pcm.astype(np.int32) >> 2  # the 14-bit sample of G.711's μ-law
    negative = s < 0
    magnitude = np.minimum(np.where(negative, -s, s), 8159) + 0x21
    segment = np.maximum(np.floor(np.log2(magnitude)).astype(np.int32) - 5, 0)
    value = np.where(segment > 7, 0x7F, (segment << 4) | ((magnitude >> (segment + 1)) & 0x0F))
    return bytes((value ^ np.where(negative, 0x7F, 0xFF)).astype(np.uint8).tobytes())


def alaw_decode(data: bytes) -> Ints:
    a = np.frombuffer(data, dtype=np.uint8).astype(np.int32) ^ 0x55
    exponent = (a >> 4) & 0x07
    mantissa = a & 0x0F
    magnitude = np.where(exponent == 0, (mantissa << 4) + 8, ((mantissa << 4) + 0x108) << np.maximum(exponent - 1, 0))
    return np.where(a & 0x80, magnitude, -magnitude).astype(np.int16)


def alaw_encode(pcm: Ints) -> bytes:
    s = pcm.astype(np.int32)
    sign = np.where(s >= 0, 0x80, 0)
    magnitude = np.minimum(np.where(s >= 0, s, -s - 1), 32767)
    exponent = np.clip(np.floor(np.log2(np.maximum(magnitude, 1))).astype(np.int32) - 7, 0, 7)
    mantissa = np.where(exponent == 0, magnitude >> 4, magnitude >> (exponent + 3)) & 0x0F
    return bytes(((sign | (exponent << 4) | mantissa) ^ 0x55).astype(np.uint8).tobytes())


class _Fir:
    """The low-pass filter over a stream, every ``step``-th output kept."""

    def __init__(self, step: int) -> None:
        self.step = step
        self.history: Floats = np.zeros(_TAPS - 1)

    def feed(self, samples: Floats) -> Floats:
        data = np.concatenate([self.history, samples])
        count = (len(data) - (_TAPS - 1) + self.step - 1) // self.step
        if count <= 0:
            self.history = data
            return np.zeros(0)
        windows = np.lib.stride_tricks.sliding_window_view(data, _TAPS)[::self.step][:count]
        self.history = data[count * self.step:]
        out: Floats = windows @ _KERNEL[::-1]
        return out


def _to_int16(samples: Floats) -> Ints:
    return np.clip(np.rint(samples), -32768, 32767).astype(np.int16)


class Decoder:
    """Client audio in the session's input format to 16-bit PCM at 24 kHz."""

    def __init__(self, fmt: Format) -> None:
        self.format = fmt
        self._fir = _Fir(1)

    def bytes_ok(self, data: bytes) -> bool:
        return self.format != "audio/pcm" or len(data) % 2 == 0

    def __call__(self, data: bytes) -> bytes:
        if self.format == "audio/pcm":
            return data
        narrow = ulaw_decode(data) if self.format == "audio/pcmu" else alaw_decode(data)
        stuffed = np.zeros(len(narrow) * 3)
        stuffed[::3] = narrow.astype(np.float64) * 3  # zero-stuffing loses two thirds of the energy
        return _to_int16(self._fir.feed(stuffed)).astype("<i2").tobytes()


class Encoder:
    """16-bit PCM at 24 kHz to the session's output format; ``ms`` is its duration."""

    def __init__(self, fmt: Format) -> None:
        self.format = fmt
        self._fir = _Fir(3)

    def __call__(self, pcm: bytes) -> bytes:
        if self.format == "audio/pcm":
            return pcm
        wide = np.frombuffer(pcm, dtype="<i2").astype(np.float64)
        narrow = _to_int16(self._fir.feed(wide))
        return ulaw_encode(narrow) if self.format == "audio/pcmu" else alaw_encode(narrow)

    def ms(self, data: bytes) -> int:
        return len(data) // 48 if self.format == "audio/pcm" else len(data) // 8
