"""Uploaded audio decoded with PyAV (FFmpeg's demuxers and decoders: wav, mp3, m4a, ogg,
flac, webm...) to 16 kHz mono float32, in windows of ``window_seconds``, so an hour of audio
is never held whole: each window is cut at the quietest moment of its last
``search_seconds`` so that words are not split, and what follows the cut starts the next."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import av
import numpy as np
import numpy.typing as npt

from switchyard.core.errors import invalid

RATE = 16_000
WINDOW_SECONDS = 300.0
SEARCH_SECONDS = 5.0
FRAME = RATE // 50  # 20 ms energy frames when looking for a pause

Samples = npt.NDArray[np.float32]


def bad_audio(detail: str) -> Exception:
    return invalid(f"'file' could not be decoded as audio: {detail}.", "file", "invalid_value")


def _reason(exc: av.FFmpegError) -> str:
    """FFmpeg's reason without the file name (the server's own path)."""
    return str(exc.strerror or type(exc).__name__)


def probe(path: Path) -> float | None:
    """Checks that the file holds an audio stream; its duration in seconds where the container says."""
    try:
        with av.open(str(path)) as container:
            if not container.streams.audio:
                raise bad_audio("it has no audio stream")
            stream = container.streams.audio[0]
            if stream.duration is not None and stream.time_base is not None:
                return float(stream.duration * stream.time_base)
            return None if container.duration is None else container.duration / 1_000_000
    except av.FFmpegError as exc:
        raise bad_audio(_reason(exc)) from exc


def quiet_cut(samples: Samples, search: int) -> int:
    """Where to cut ``samples``: the start of the quietest 20 ms frame in the last ``search`` samples."""
    start = max(0, len(samples) - search)
    tail = samples[start:]
    frames = len(tail) // FRAME
    if frames < 2:
        return len(samples)
    energy = np.square(tail[: frames * FRAME].reshape(frames, FRAME)).mean(axis=1)
    return start + int(np.argmin(energy)) * FRAME


def decoded(path: Path) -> Iterator[Samples]:
    """The file's first audio stream as 16 kHz mono float32 blocks, as FFmpeg decodes them."""
    resampler = av.AudioResampler(format="flt", layout="mono", rate=RATE)
    try:
        with av.open(str(path)) as container:
            for frame in container.decode(audio=0):
                for out in resampler.resample(frame):
                    yield out.to_ndarray().reshape(-1).astype(np.float32, copy=False)
            for out in resampler.resample(None):
                yield out.to_ndarray().reshape(-1).astype(np.float32, copy=False)
    except av.FFmpegError as exc:
        raise bad_audio(_reason(exc)) from exc


def windows(blocks: Iterator[Samples], window_seconds: float = WINDOW_SECONDS,
            search_seconds: float = SEARCH_SECONDS) -> Iterator[tuple[float, Samples]]:
    """(offset in seconds, samples) windows of at most ``window_seconds``, cut at pauses
    (searched for in the last ``search_seconds``, or the last half of a shorter window)."""
    size = int(window_seconds * RATE)
    search = min(int(search_seconds * RATE), size // 2)
    pending: list[Samples] = []
    held = 0
    offset = 0
    for block in blocks:
        pending.append(block)
        held += len(block)
        while held >= size:
            joined = np.concatenate(pending)
            cut = quiet_cut(joined[:size], search) or size
            yield offset / RATE, joined[:cut]
            offset += cut
            rest = joined[cut:]
            pending, held = [rest], len(rest)
    if held:
        yield offset / RATE, np.concatenate(pending)
