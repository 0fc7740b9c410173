"""Speech real-time factors: the embedded Whisper and voice called directly (faster-whisper,
hibari) against the same work through a live Switchyard (the OpenAI SDK on loopback).

RTF here is seconds of audio per second of wall time (higher is faster). Each round runs the
four calls one after another (direct and served, speech and transcription of the same WAV);
each figure is the median over the rounds.

    .venv/bin/python bench/audio.py [--rounds 5] [--threads 2]
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import openai

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.server import MASTER_KEY, LiveServer

TEXT = ("The quick brown fox jumps over the lazy dog. Seven green apples fell from the tall tree. "
        "A gateway should cost a few percent of the work it relays, and no more than that. "
        "Speech to text and text to speech run here without any network at all.")


class Direct:
    """The libraries called as a user of them would: hibari's sentence stream, faster-whisper
    on a float32 array (decoded from the same WAV with PyAV, as faster-whisper itself does)."""

    def __init__(self, threads: int, whisper_dir: Path) -> None:
        from faster_whisper import WhisperModel
        from hibari import Hibari

        self.voice = Hibari(threads=threads)
        self.voice("Warm up.")
        self.model = WhisperModel(str(whisper_dir), device="cpu", compute_type="int8", cpu_threads=threads)

    def speak(self) -> None:
        np.concatenate(list(self.voice.stream(TEXT)))

    def transcribe(self, wav: bytes) -> str:
        from faster_whisper.audio import decode_audio

        segments, _ = self.model.transcribe(decode_audio(io.BytesIO(wav)))
        return "".join(s.text for s in segments)


def _timed(work: object) -> float:
    started = time.perf_counter()
    work()  # type: ignore[operator]
    return time.perf_counter() - started


def run(rounds: int, threads: int, whisper_dir: Path) -> None:
    """Direct and served calls interleaved round by round, so both meet the same machine load."""
    models = [{"name": "stt", "provider": "local", "task": "transcription", "path": str(whisper_dir),
               "threads": threads},
              {"name": "tts", "provider": "local", "task": "speech", "threads": threads}]
    direct = Direct(threads, whisper_dir)
    with tempfile.TemporaryDirectory() as work:
        server = LiveServer(Path(work), models, log_level="warning")
        server.start(wait_ready=True)
        try:
            client = openai.OpenAI(base_url=server.url + "/v1", api_key=MASTER_KEY, max_retries=0, timeout=600)
            wav = client.audio.speech.create(model="tts", voice="heart", input=TEXT, response_format="wav").content
            client.audio.transcriptions.create(model="stt", file=("w.wav", io.BytesIO(wav), "audio/wav"))
            direct.transcribe(wav)
            seconds = (len(wav) - 44) / 2 / 24000
            times: dict[str, list[float]] = {k: [] for k in ("speech direct", "speech served", "stt direct",
                                                             "stt served")}
            for _ in range(rounds):
                times["speech direct"].append(_timed(direct.speak))
                times["speech served"].append(_timed(lambda: client.audio.speech.create(
                    model="tts", voice="heart", input=TEXT, response_format="wav").content))
                times["stt direct"].append(_timed(lambda: direct.transcribe(wav)))
                times["stt served"].append(_timed(lambda: client.audio.transcriptions.create(
                    model="stt", file=("w.wav", io.BytesIO(wav), "audio/wav"))))
        finally:
            server.stop()
    print(f"audio: {seconds:.2f} s of speech, {rounds} rounds interleaved, {threads} threads")
    print(f"{'':14}{'direct s':>10}{'RTF':>7}{'served s':>10}{'RTF':>7}{'overhead':>10}")
    for job, key in (("speech", "speech"), ("transcription", "stt")):
        dw, sw = statistics.median(times[f"{key} direct"]), statistics.median(times[f"{key} served"])
        print(f"{job:14}{dw:10.3f}{seconds / dw:7.1f}{sw:10.3f}{seconds / sw:7.1f}{(sw / dw - 1) * 100:9.1f}%")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    from switchyard.providers.audio.whisper_files import ensure_whisper_base

    whisper_dir = ensure_whisper_base(Path(tempfile.gettempdir()) / "switchyard-bench-audio")
    run(args.rounds, args.threads, whisper_dir)


if __name__ == "__main__":
    main()
