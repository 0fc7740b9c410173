"""G.711 companding, sample by sample, as in the ITU reference code (Sun's g711.c), for
the realtime tests to make and read ``audio/pcmu`` / ``audio/pcma`` on their own."""

from __future__ import annotations

import numpy as np

_ULAW_END = (0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF, 0x1FFF)
_ALAW_END = (0x1F, 0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF)


def _segment(value: int, ends: tuple[int, ...]) -> int:
    return next((i for i, end in enumerate(ends) if value <= end), len(ends))


def linear_to_ulaw(sample: int) -> int:
    value = sample >> 2
    mask = 0xFF
    if value < 0:
        value, mask = -value, 0x7F
    value = min(value, 8159) + 0x21
    seg = _segment(value, _ULAW_END)
    if seg >= 8:
        return 0x7F ^ mask
    return ((seg << 4) | ((value >> (seg + 1)) & 0x0F)) ^ mask


def ulaw_to_linear(byte: int) -> int:
    u = ~byte & 0xFF
    t = (((u & 0x0F) << 3) + 0x84) << ((u & 0x70) >> 4)
    return 0x84 - t if u & 0x80 else t - 0x84


def linear_to_alaw(sample: int) -> int:
    value = sample >> 3
    mask = 0xD5
    if value < 0:
        value, mask = -value - 1, 0x55
    seg = _segment(value, _ALAW_END)
    if seg >= 8:
        return 0x7F ^ mask
    low = (value >> 1) & 0x0F if seg < 2 else (value >> seg) & 0x0F
    return ((seg << 4) | low) ^ mask


def alaw_to_linear(byte: int) -> int:
    a = byte ^ 0x55
    t = (a & 0x0F) << 4
    seg = (a & 0x70) >> 4
    t = t + 8 if seg == 0 else (t + 0x108) << max(seg - 1, 0)
    return t if a & 0x80 else -t


def to_8k(pcm24: bytes) -> list[int]:
    """16-bit PCM at 24 kHz to samples at 8 kHz (each the mean of three)."""
    samples = np.frombuffer(pcm24, dtype="<i2").astype(np.int32)
    samples = samples[: len(samples) // 3 * 3].reshape(-1, 3).mean(axis=1)
    return [int(s) for s in samples]


def encode(pcm24: bytes, law: str) -> bytes:
    code = linear_to_ulaw if law == "ulaw" else linear_to_alaw
    return bytes(code(s) for s in to_8k(pcm24))


def decode(data: bytes, law: str) -> bytes:
    """G.711 bytes to 16-bit PCM at 8 kHz."""
    code = ulaw_to_linear if law == "ulaw" else alaw_to_linear
    return np.array([code(b) for b in data], dtype="<i2").tobytes()
