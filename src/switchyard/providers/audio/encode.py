"""Synthesised PCM (float32 mono) encoded as it arrives, in the formats of OpenAI's speech
API: mp3 (LAME), opus (in Ogg), aac (ADTS), flac through PyAV's FFmpeg; wav and pcm
(16-bit little-endian) written here. A streamed WAV cannot know its length in advance, so
its RIFF and data sizes say 0xFFFFFFFF ("until the end"), as streaming servers do."""

from __future__ import annotations

import struct
from typing import Protocol

import numpy as np
import numpy.typing as npt

from switchyard.core.audio import SpeechFormat

Samples = npt.NDArray[np.float32]
_FFMPEG: dict[SpeechFormat, tuple[str, str]] = {  # container, codec
    "mp3": ("mp3", "libmp3lame"), "opus": ("ogg", "libopus"), "aac": ("adts", "aac"), "flac": ("flac", "flac"),
}
_UNKNOWN_SIZE = 0xFFFFFFFF


class Encoder(Protocol):
    def add(self, samples: Samples) -> bytes: ...

    def finish(self) -> bytes: ...


def _pcm16(samples: Samples) -> bytes:
    return (np.clip(samples, -1.0, 1.0) * 32767.0).astype("<i2").tobytes()


class PcmEncoder:
    def add(self, samples: Samples) -> bytes:
        return _pcm16(samples)

    def finish(self) -> bytes:
        return b""


class WavEncoder:
    def __init__(self, rate: int) -> None:
        self.rate = rate
        self.started = False

    def _header(self) -> bytes:
        fmt = struct.pack("<HHIIHH", 1, 1, self.rate, self.rate * 2, 2, 16)
        return (b"RIFF" + struct.pack("<I", _UNKNOWN_SIZE) + b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt
                + b"data" + struct.pack("<I", _UNKNOWN_SIZE))

    def add(self, samples: Samples) -> bytes:
        head = b"" if self.started else self._header()
        self.started = True
        return head + _pcm16(samples)

    def finish(self) -> bytes:
        return b"" if self.started else self._header()


class _Sink:
    """Where FFmpeg's muxer writes; drained after every packet."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []

    def write(self, data: bytes) -> int:
        self.parts.append(bytes(data))
        return len(data)

    def take(self) -> bytes:
        out, self.parts = b"".join(self.parts), []
        return out


class FfmpegEncoder:
    def __init__(self, fmt: SpeechFormat, rate: int) -> None:
        import av

        container, codec = _FFMPEG[fmt]
        self.rate = rate
        self.sink = _Sink()
        self.output = av.open(self.sink, mode="w", format=container)
        self.stream = self.output.add_stream(codec, rate=rate, layout="mono")

    def add(self, samples: Samples) -> bytes:
        import av

        if len(samples):
            frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(samples, dtype=np.float32)[None, :],
                                               format="flt", layout="mono")
            frame.sample_rate = self.rate
            for packet in self.stream.encode(frame):
                self.output.mux(packet)
        return self.sink.take()

    def finish(self) -> bytes:
        for packet in self.stream.encode(None):
            self.output.mux(packet)
        self.output.close()
        return self.sink.take()


def encoder(fmt: SpeechFormat, rate: int) -> Encoder:
    if fmt == "pcm":
        return PcmEncoder()
    if fmt == "wav":
        return WavEncoder(rate)
    return FfmpegEncoder(fmt, rate)
