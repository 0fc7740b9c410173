"""Realtime time to first audio: a spoken question goes into a live Switchyard realtime
session (the official SDK's client) at real-time pace, 100 ms of 24 kHz PCM at a time,
then silence; the server's VAD ends the turn, Whisper transcribes it, the chat model
answers and the voice speaks it sentence by sentence. Measured from the moment the last
chunk of speech was sent (the user stopped talking):

- ``speech_stopped``: the VAD's decision (includes ``silence_duration_ms`` of waiting);
- ``transcribed``: the turn's transcript is complete;
- ``first text``: the model's first transcript delta of the answer;
- ``first audio``: the first ``response.output_audio.delta`` — the figure the issue asks for.

Two chat backends, interleaved in one run: the embedded model (the zero-config default's),
and a loopback upstream that answers at once (so the figure is the speech stages alone).
``--pauses on,off`` runs one server per setting of ``realtime.transcribe_at_pauses``
(transcribing the turn at its first 200 ms pause instead of when the VAD ends it), both up
at once, their turns interleaved.

    .venv/bin/python bench/realtime.py [--rounds 5] [--silence-ms 500] [--backends instant,qwen-local]
                                       [--pauses on,off]
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import openai

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.fakes import openai_wire as ow
from tests.fakes.upstream import FakeUpstream
from tests.server import MASTER_KEY, LiveServer

QUESTION = "What is the capital of France?"
CHUNK = 4800  # 100 ms of 16-bit PCM at 24 kHz
VERBOSE = "-v" in sys.argv
MARKS = ("speech_stopped", "transcribed", "first text", "first audio")


def _speech(client: openai.OpenAI) -> bytes:
    return client.audio.speech.create(model="tts-1", voice="alloy", input=QUESTION, response_format="pcm").content


def _last_voiced_byte(pcm: bytes) -> int:
    """Where the speech ends: the end of the last 20 ms frame as loud as the server VAD's
    default threshold (the voice's own trailing silence is not speech)."""
    samples = np.frombuffer(pcm, dtype="<i2").astype(np.float32) / 32768
    frames = samples[: len(samples) // 480 * 480].reshape(-1, 480)
    voiced = np.flatnonzero(np.sqrt((frames ** 2).mean(axis=1)) >= 0.5 * 0.04)
    return int((voiced[-1] + 1) * 960) if len(voiced) else len(pcm)


def _turn(server: LiveServer, model: str, speech: bytes, silence_ms: int) -> dict[str, float]:
    """One spoken turn; seconds from the end of speech to each mark."""
    client = openai.OpenAI(base_url=server.url + "/v1", api_key=MASTER_KEY, max_retries=0, timeout=600)
    marks: dict[str, float] = {}
    with client.realtime.connect(model=model) as connection:
        json.loads(connection.recv_bytes())  # session.created
        connection.session.update(session={"type": "realtime", "instructions": "Answer in one short sentence.",
                                           "audio": {"input": {"transcription": {"model": "whisper-1"},
                                                               "turn_detection": {"type": "server_vad",
                                                                                  "silence_duration_ms": silence_ms}}}})
        while json.loads(connection.recv_bytes())["type"] != "session.updated":
            pass
        audio = speech + b"\0" * (48 * (silence_ms + 1500))
        last = _last_voiced_byte(speech)
        ended = 0.0

        def send() -> None:
            nonlocal ended
            start = time.perf_counter()
            for n, offset in enumerate(range(0, len(audio), CHUNK)):
                time.sleep(max(0.0, start + n * 0.1 - time.perf_counter()))
                connection.input_audio_buffer.append(audio=base64.b64encode(audio[offset:offset + CHUNK]).decode())
                if offset + CHUNK >= last and not ended:  # the chunk with the last voiced frame went
                    ended = time.perf_counter()

        sender = threading.Thread(target=send)
        sender.start()
        names = {"input_audio_buffer.speech_stopped": "speech_stopped",
                 "conversation.item.input_audio_transcription.completed": "transcribed",
                 "response.output_audio_transcript.delta": "first text",
                 "response.output_audio.delta": "first audio"}
        while True:
            event: dict[str, Any] = json.loads(connection.recv_bytes())
            if VERBOSE:
                print(f"{time.perf_counter() - ended:+.2f}" if ended else "  (speaking)", event["type"])
            mark = names.get(event["type"])
            if mark is not None and mark not in marks:
                marks[mark] = time.perf_counter()
            if event["type"] == "response.done":
                break
            if event["type"] == "error":
                raise RuntimeError(event["error"])
        sender.join()
    return {mark: marks[mark] - ended for mark in MARKS if mark in marks}


def _models(upstream: FakeUpstream, backends: list[str]) -> list[dict[str, Any]]:
    from switchyard.providers.audio.whisper_files import ensure_whisper_base
    from switchyard.providers.local.model_files import ensure_default_model

    cache = Path(os.environ.get("SWITCHYARD_TEST_CACHE") or Path(__file__).resolve().parents[1] / ".cache")
    chat = {"instant": {"name": "instant", "provider": "openai", "base_url": upstream.url + "/v1", "api_key": "k",
                        "model": "gpt-upstream", "timeout": 30}}
    if "qwen-local" in backends:
        chat["qwen-local"] = {"name": "qwen-local", "provider": "local", "path": str(ensure_default_model(cache))}
    return [*(chat[name] for name in backends),
            {"name": "whisper-base", "provider": "local", "task": "transcription",
             "path": str(ensure_whisper_base(cache)), "aliases": ["whisper-1"]},
            {"name": "hibari-tts", "provider": "local", "task": "speech", "aliases": ["tts-1"]}]


def run(rounds: int, silence_ms: int, backends: list[str], pauses: list[bool]) -> None:
    """One server per setting of ``transcribe_at_pauses``, all up at once, their turns
    interleaved (one turn at a time), so that a change of load hits every setting alike."""
    upstream = FakeUpstream("instant-upstream")
    upstream.start()
    figures: dict[str, dict[str, list[float]]] = {}
    servers: dict[bool, LiveServer] = {}
    with tempfile.TemporaryDirectory() as work:
        try:
            for at_pauses in pauses:
                home = Path(work) / f"pauses-{at_pauses}"
                home.mkdir()
                servers[at_pauses] = LiveServer(home, _models(upstream, backends),
                                                log_level="warning", realtime={"transcribe_at_pauses": at_pauses})
                servers[at_pauses].start(wait_ready=True, timeout=1800)
            first = servers[pauses[0]]
            client = openai.OpenAI(base_url=first.url + "/v1", api_key=MASTER_KEY, max_retries=0, timeout=600)
            speech = _speech(client)
            for server in servers.values():  # warm-up: models loaded, caches filled
                upstream.script(ow.stream(["Paris is the capital ", "of France."]))
                _turn(server, backends[0], speech, silence_ms)
            for _ in range(rounds):
                for at_pauses, server in servers.items():
                    for model in backends:
                        if model == "instant":
                            upstream.script(ow.stream(["Paris is the capital ", "of France."]))
                        row = figures.setdefault(f"{model} pauses={'on' if at_pauses else 'off'}", {})
                        for mark, seconds in _turn(server, model, speech, silence_ms).items():
                            row.setdefault(mark, []).append(seconds)
        finally:
            for server in servers.values():
                server.stop()
            upstream.stop()
    _report(figures, rounds, silence_ms, len(speech) / 48000)


def _report(figures: dict[str, dict[str, list[float]]], rounds: int, silence_ms: int, spoken: float) -> None:
    print(f"question {spoken:.2f} s of speech, VAD silence {silence_ms} ms, {rounds} rounds; "
          "median seconds after the end of speech (min-max)")
    for backend, marks in figures.items():
        row = "  ".join(f"{mark} {statistics.median(v):.2f} ({min(v):.2f}-{max(v):.2f})"
                        for mark, v in marks.items())
        print(f"{backend:22s} {row}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--silence-ms", type=int, default=500)
    parser.add_argument("--backends", default="qwen-local,instant")
    parser.add_argument("--pauses", default="on", help="on, off or on,off: realtime.transcribe_at_pauses")
    parser.add_argument("-v", action="store_true", help="print every event with its time")
    args = parser.parse_args()
    run(args.rounds, args.silence_ms, args.backends.split(","), [p == "on" for p in args.pauses.split(",")])


if __name__ == "__main__":
    main()
