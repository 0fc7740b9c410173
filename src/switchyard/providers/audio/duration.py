"""How long a piece of audio made by a speech model lasts, for a price per minute of speech:
raw PCM (24 kHz, 16-bit mono, OpenAI's ``pcm``) by its size, the other formats by decoding
them with PyAV (the 'local' extra) and counting their samples."""

from __future__ import annotations

import io
import logging

PCM_BYTES_PER_SECOND = 24_000 * 2

log = logging.getLogger("switchyard.audio")


def spoken_ms(data: bytes, response_format: str) -> int:
    """The milliseconds of audio in ``data``; 0 when it cannot be decoded here."""
    if not data:
        return 0
    if response_format == "pcm":
        return round(len(data) * 1000 / PCM_BYTES_PER_SECOND)
    try:
        import av
    except ImportError:
        log.warning("speech priced per minute needs PyAV to measure %s audio (pip install 'switchyard[local]')",
                    response_format)
        return 0
    seconds = 0.0
    try:
        with av.open(io.BytesIO(data)) as container:
            for frame in container.decode(audio=0):
                seconds += frame.samples / frame.sample_rate
    except (av.FFmpegError, IndexError, ValueError) as exc:
        log.warning("could not measure the speech made (%s): %s", response_format, exc)
    return round(seconds * 1000)
