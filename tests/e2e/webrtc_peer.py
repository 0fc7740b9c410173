"""The caller's side of a realtime WebRTC call, as a browser would be: a real peer
connection (aiortc) with the ``oai-events`` data channel and a two-way audio track. It
speaks given 16-bit PCM (24 kHz mono) in real time, then silence; it records what it
hears, converted back to 24 kHz mono; every server event it receives is checked against
the official SDK's event types."""

from __future__ import annotations

import asyncio
import contextlib
import fractions
import json
import time
from typing import Any

import av
import numpy as np
from aiortc import MediaStreamTrack, RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError

from tests.e2e.realtime_support import CHECK
from tests.sdk_schema import assert_valid

RATE = 24000
FRAME = RATE // 50


class Voice(MediaStreamTrack):
    """Says what it is given, paced in 20 ms frames; silence otherwise."""

    kind = "audio"

    def __init__(self) -> None:
        super().__init__()
        self.queue = bytearray()
        self.sent = 0
        self.start: float | None = None

    def say(self, pcm: bytes) -> None:
        self.queue += pcm

    async def recv(self) -> av.AudioFrame:
        if self.start is None:
            self.start = time.monotonic()
        wait = self.start + self.sent / RATE - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)
        chunk = bytes(self.queue[:FRAME * 2]).ljust(FRAME * 2, b"\0")
        del self.queue[:FRAME * 2]
        frame = av.AudioFrame.from_ndarray(np.frombuffer(chunk, dtype=np.int16).reshape(1, -1), format="s16",
                                           layout="mono")
        frame.sample_rate, frame.pts, frame.time_base = RATE, self.sent, fractions.Fraction(1, RATE)
        self.sent += FRAME
        return frame


class Caller:
    def __init__(self) -> None:
        self.peer = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        self.channel = self.peer.createDataChannel("oai-events")
        self.voice = Voice()
        self.peer.addTrack(self.voice)
        self.events: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.seen: list[dict[str, Any]] = []
        self.heard = bytearray()  # what the server's track carried, as 24 kHz mono PCM
        self.opened = asyncio.Event()
        self.closed = asyncio.Event()
        self.channel.on("open", self.opened.set)
        self.channel.on("close", self.closed.set)
        self.channel.on("message", self._message)
        self.peer.on("track", self._track)
        self._tasks: list[asyncio.Task[None]] = []

    async def offer(self) -> str:
        await self.peer.setLocalDescription(await self.peer.createOffer())
        return str(self.peer.localDescription.sdp)

    async def connect(self, answer: str) -> None:
        await self.peer.setRemoteDescription(RTCSessionDescription(sdp=answer, type="answer"))
        await asyncio.wait_for(self.opened.wait(), 20)

    def _message(self, message: str | bytes) -> None:
        event = json.loads(message)
        assert_valid(CHECK, event, event.get("type", "?"))
        self.seen.append(event)
        self.events.put_nowait(event)

    def _track(self, track: MediaStreamTrack) -> None:
        self._tasks.append(asyncio.get_running_loop().create_task(self._record(track)))

    async def _record(self, track: MediaStreamTrack) -> None:
        resampler = av.AudioResampler(format="s16", layout="mono", rate=RATE)
        while True:
            try:
                frame = await track.recv()
            except MediaStreamError:
                return
            for out in resampler.resample(frame):
                self.heard += out.to_ndarray().astype(np.int16).tobytes()

    def send(self, event: dict[str, Any]) -> None:
        self.channel.send(json.dumps(event))

    async def until(self, kind: str, timeout: float = 60) -> list[dict[str, Any]]:
        """Events up to and with the first of type ``kind``."""
        got: list[dict[str, Any]] = []
        deadline = time.monotonic() + timeout
        while True:
            event = await asyncio.wait_for(self.events.get(), max(0.01, deadline - time.monotonic()))
            got.append(event)
            if event["type"] == kind:
                return got

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        with contextlib.suppress(Exception):
            await self.peer.close()


def loud_ms(pcm: bytes, threshold: int = 500) -> int:
    """Milliseconds of 20 ms frames whose mean level is above ``threshold`` (not silence)."""
    samples = np.frombuffer(pcm[: len(pcm) // (FRAME * 2) * FRAME * 2], dtype=np.int16).reshape(-1, FRAME)
    return int((np.abs(samples.astype(np.int32)).mean(axis=1) > threshold).sum()) * 20
