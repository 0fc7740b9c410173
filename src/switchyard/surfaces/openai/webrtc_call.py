"""One realtime session over WebRTC: the peer's ``oai-events`` data channel carries the
events (client events in, server events out, as over the WebSocket), its audio track
carries the caller's voice into the input buffer, and the session's speech goes back on
an audio track rather than as ``response.output_audio.delta`` events. As on OpenAI,
``output_audio_buffer.started`` / ``.stopped`` / ``.cleared`` tell the client what the
track is doing; a caller who starts speaking (server VAD) or sends
``output_audio_buffer.clear`` cuts the answer, and the answer's item is truncated where
the caller stopped hearing it."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

import av
import orjson
from aiortc import RTCConfiguration, RTCDataChannel, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from switchyard.codecs.openai_realtime.server_events import event
from switchyard.core.errors import invalid
from switchyard.engine.realtime.calls import RealtimeCall, RealtimeCalls
from switchyard.engine.realtime.session import CallerRevoked, RealtimeSession, new_id
from switchyard.surfaces.openai.webrtc_audio import FRAME_BYTES, RATE, MicrophoneIn, Playing, SpeakerTrack

log = logging.getLogger("switchyard")
EVENTS_CHANNEL = "oai-events"
_SPOKEN = "response.output_audio.delta"
_ENDED = ("failed", "closed")

MakeSession = Callable[[Callable[[dict[str, Any]], Awaitable[None]]], RealtimeSession]


class WebRtcCall:
    def __init__(self, calls: RealtimeCalls, owner_id: str, make_session: MakeSession) -> None:
        self.id = new_id("rtc_")
        self.calls = calls
        self.peer = RTCPeerConnection(RTCConfiguration(iceServers=[]))  # host candidates only: no STUN lookups
        self.speaker = SpeakerTrack(self._stopped)
        self.session = make_session(self._from_session)
        self.channel: RTCDataChannel | None = None
        self.waiting: list[str] = []  # events made before the data channel opened
        self.tasks: set[asyncio.Task[None]] = set()
        self.ended = False
        self.done: dict[str, asyncio.Event] = {}  # response id -> its response.done was sent
        self.record = RealtimeCall(self.id, owner_id, self.from_client, self.hangup)

    # --- set-up --------------------------------------------------------------------------

    async def answer(self, offer: str) -> str:
        """The SDP answer to the caller's offer (400 naming ``sdp`` for one that cannot be
        answered); the call is live from here."""
        if "m=application" not in offer:
            raise invalid("The SDP offer has no data channel: open one named 'oai-events' before making the "
                          "offer.", "sdp", "invalid_sdp")
        self.peer.on("datachannel", self._on_channel)
        self.peer.on("track", self._on_track)
        self.peer.on("connectionstatechange", self._on_state)
        try:
            await self.peer.setRemoteDescription(RTCSessionDescription(sdp=offer, type="offer"))
            if any(t.kind == "audio" for t in self.peer.getTransceivers()):
                self.peer.addTrack(self.speaker)
            await self.peer.setLocalDescription(await self.peer.createAnswer())
        except Exception as error:
            await self.peer.close()
            raise invalid(f"The SDP offer could not be answered: {error}", "sdp", "invalid_sdp") from error
        self.calls.add(self.record)
        self._spawn(self._expire_at(self.session.expires_at))
        return str(self.peer.localDescription.sdp)

    def _spawn(self, work: Any) -> None:
        task: asyncio.Task[None] = asyncio.get_running_loop().create_task(work)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    def _on_channel(self, channel: RTCDataChannel) -> None:
        if channel.label != EVENTS_CHANNEL or self.channel is not None:
            return
        self.channel = channel
        channel.on("message", lambda message: self._spawn(self._from_channel(message)))
        if channel.readyState == "open":
            self._spawn(self._opened())
        else:
            channel.on("open", lambda: self._spawn(self._opened()))

    async def _opened(self) -> None:
        await self.session.start()
        waiting, self.waiting = self.waiting, []
        for text in waiting:
            self._send_channel(text)

    def _on_track(self, track: MediaStreamTrack) -> None:
        if track.kind == "audio":
            self._spawn(self._listen(track))

    def _on_state(self) -> None:
        if self.peer.connectionState in _ENDED:
            self._spawn(self.hangup())

    async def _expire_at(self, expires_at: float) -> None:
        await asyncio.sleep(max(0.0, expires_at - time.time()))
        await self.session.expire()
        await self.hangup()

    # --- the caller's side ---------------------------------------------------------------

    async def _listen(self, track: MediaStreamTrack) -> None:
        """The caller's voice into the input buffer, as appends of about 100 ms."""
        microphone = MicrophoneIn()
        pending = bytearray()
        while not self.ended:
            try:
                frame = await track.recv()
            except MediaStreamError:
                return
            if isinstance(frame, av.AudioFrame):
                pending += microphone.convert(frame)
            if len(pending) >= 5 * FRAME_BYTES:
                audio = base64.b64encode(bytes(pending)).decode()
                pending.clear()
                await self._receive(orjson.dumps({"type": "input_audio_buffer.append", "audio": audio}))

    async def _from_channel(self, message: str | bytes) -> None:
        await self.from_client(message if isinstance(message, str) else message.decode("utf-8", "replace"))

    async def from_client(self, text: str) -> None:
        """A client event from the data channel or a sideband socket."""
        if "output_audio_buffer.clear" in text:  # parsed here too only for the event the call handles itself
            with contextlib.suppress(orjson.JSONDecodeError):
                frame = orjson.loads(text)
                if isinstance(frame, dict) and frame.get("type") == "output_audio_buffer.clear":
                    await self._cut()
                    return
        await self._receive(text)

    async def _receive(self, text: str | bytes) -> None:
        try:
            await self.session.receive(text)
        except CallerRevoked:  # the caller's key stopped working: the call ends
            self._spawn(self.hangup())

    # --- the session's side --------------------------------------------------------------

    async def _from_session(self, server_event: dict[str, Any]) -> None:
        kind = server_event.get("type")
        if kind == _SPOKEN:
            if self.speaker.push(server_event["response_id"], server_event["item_id"],
                                 server_event.get("content_index", 0), base64.b64decode(server_event["delta"])):
                await self._emit(event(new_id("event_"), "output_audio_buffer.started",
                                       response_id=server_event["response_id"]))
            return  # the audio itself goes on the track
        await self._emit(server_event)
        if kind == "response.done":
            self.speaker.finish(server_event["response"]["id"])
            waiting = self.done.pop(server_event["response"]["id"], None)
            if waiting is not None:
                waiting.set()
        elif kind == "input_audio_buffer.speech_started":
            turn = self.session.config.turn_detection
            if turn is not None and turn.interrupt_response:
                await self._cut()

    async def _emit(self, server_event: dict[str, Any]) -> None:
        text = orjson.dumps(server_event).decode()
        if self.channel is not None and self.channel.readyState == "open":
            self._send_channel(text)
        elif not self.ended:
            self.waiting.append(text)
        await self.record.broadcast(server_event)

    def _send_channel(self, text: str) -> None:
        with contextlib.suppress(Exception):  # a channel closing under us: the call is ending
            assert self.channel is not None
            self.channel.send(text)

    async def _stopped(self, playing: Playing) -> None:
        await self._emit(event(new_id("event_"), "output_audio_buffer.stopped", response_id=playing.response_id))

    async def _cut(self) -> None:
        """Stop the answer being spoken, and keep in the conversation only what was heard."""
        cut = self.speaker.clear()
        if cut is None:
            return
        await self._emit(event(new_id("event_"), "output_audio_buffer.cleared", response_id=cut.response_id))
        ended = asyncio.Event()
        if cut.finished:
            ended.set()
        else:
            self.done[cut.response_id] = ended  # cancelled by the client (or by server VAD), or let finish
        self._spawn(self._truncate(cut, ended))

    async def _truncate(self, cut: Playing, ended: asyncio.Event) -> None:
        """Once the cut response has ended (its audio length is known), truncate its item
        to what the caller heard."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(ended.wait(), 30)
        self.done.pop(cut.response_id, None)
        conversation = self.session.state.conversation
        if cut.item_id not in {item["id"] for item in conversation.items}:
            return
        heard_ms = min(cut.played_bytes * 1000 // (2 * RATE), conversation.audio_ms.get(cut.item_id, 0))
        await self._receive(orjson.dumps({"type": "conversation.item.truncate", "item_id": cut.item_id,
                                                 "content_index": cut.content_index, "audio_end_ms": heard_ms}))

    # --- the end -------------------------------------------------------------------------

    async def hangup(self) -> None:
        if self.ended:
            return
        self.ended = True
        self.calls.remove(self.id)
        await self.session.close()
        await self.record.close_listeners()
        await self.peer.close()
        current = asyncio.current_task()
        for task in list(self.tasks):
            if task is not current:
                task.cancel()
