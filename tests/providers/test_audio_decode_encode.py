"""Long audio is cut into bounded windows at its quietest moments, losing no sample; the
streamed WAV header; PyAV decoding of a file it cannot read names 'file'."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from switchyard.core.errors import SwitchyardError
from switchyard.providers.audio.decode import RATE, decoded, probe, quiet_cut, windows
from switchyard.providers.audio.encode import WavEncoder, encoder


def _speechlike(seconds: float, gaps: list[float]) -> np.ndarray:
    rng = np.random.default_rng(0)
    samples = (0.5 * rng.standard_normal(int(seconds * RATE))).astype(np.float32)
    for gap in gaps:
        samples[int(gap * RATE):int((gap + 0.2) * RATE)] = 0.0
    return samples


def test_windows_cut_at_pauses_and_lose_nothing() -> None:
    audio = _speechlike(25.0, gaps=[8.5, 17.0])
    blocks = (audio[i:i + 1000] for i in range(0, len(audio), 1000))
    cut = list(windows(blocks, window_seconds=10.0, search_seconds=3.0))
    assert np.array_equal(np.concatenate([w for _, w in cut]), audio)
    assert all(len(w) <= 10 * RATE for _, w in cut)
    offsets = [o for o, _ in cut]
    assert offsets[0] == 0.0 and 8.5 <= offsets[1] <= 8.7 and 17.0 <= offsets[2] <= 17.2


def test_a_window_without_a_pause_still_ends() -> None:
    audio = _speechlike(12.0, gaps=[])
    cut = list(windows(iter([audio]), window_seconds=5.0, search_seconds=10.0))
    assert sum(len(w) for _, w in cut) == len(audio) and all(len(w) > 0 for _, w in cut)


def test_quiet_cut_finds_the_silence() -> None:
    audio = _speechlike(4.0, gaps=[3.0])
    assert 3.0 * RATE <= quiet_cut(audio, 2 * RATE) <= 3.2 * RATE


def test_streamed_wav_header_then_samples() -> None:
    wav = WavEncoder(24000)
    first = wav.add(np.zeros(10, np.float32))
    assert first[:4] == b"RIFF" and first[36:40] == b"data" and len(first) == 44 + 20
    assert wav.add(np.ones(5, np.float32)) == b"\xff\x7f" * 5 and wav.finish() == b""


def test_encoders_decode_back(tmp_path: Path) -> None:
    tone = (0.3 * np.sin(np.arange(24000) / 24000 * 2 * np.pi * 440)).astype(np.float32)
    for fmt in ("mp3", "flac", "opus", "aac", "wav"):
        out = encoder(fmt, 24000)  # type: ignore[arg-type]
        path = tmp_path / f"t.{fmt}"
        path.write_bytes(out.add(tone) + out.finish())
        assert probe(path) is None or probe(path) >= 0
        seconds = sum(len(block) for block in decoded(path)) / RATE
        assert seconds == pytest.approx(1.0, abs=0.1), fmt


def test_unreadable_audio_names_file(tmp_path: Path) -> None:
    path = tmp_path / "x.wav"
    path.write_bytes(b"this is not audio" * 100)
    with pytest.raises(SwitchyardError) as caught:
        probe(path)
    assert caught.value.param == "file" and str(tmp_path) not in caught.value.message
