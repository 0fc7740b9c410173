"""Realtime over WebRTC, as a browser app makes the call: a real peer connection (aiortc)
offers, the official SDK posts the offer (``client.realtime.calls.create``) and gets the
answer and the call's Location; events flow on the ``oai-events`` data channel; a server
joins the call with the SDK's sideband socket (``realtime.connect(call_id=...)``) and
hangs it up (``calls.hangup``). Another project's key finds no call. Bad offers are 400s
naming the field."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import httpx
import openai
import pytest
from aiortc import RTCConfiguration, RTCPeerConnection

from tests.e2e.realtime_support import CHECK
from tests.e2e.webrtc_peer import Caller
from tests.fakes import openai_wire as ow
from tests.fakes.upstream import FakeUpstream
from tests.sdk_schema import assert_valid
from tests.server import MASTER_KEY, LiveServer
from tests.tenants import project_key

CHAT = "gpt-fake"


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory, fake_openai: FakeUpstream) -> Iterator[LiveServer]:
    models = [{"name": CHAT, "provider": "openai", "base_url": fake_openai.url + "/v1", "api_key": "upstream-key",
               "model": "gpt-upstream", "timeout": 5}]
    server = LiveServer(tmp_path_factory.mktemp("switchyard-webrtc"), models, auth_cache_seconds=0)
    server.start(wait_ready=True)
    yield server
    server.stop()


def client(server: LiveServer, key: str = MASTER_KEY) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(base_url=server.url + "/v1", api_key=key, max_retries=0, timeout=120,
                              _strict_response_validation=True)


async def call(server: LiveServer, caller: Caller, session: dict[str, Any], key: str = MASTER_KEY) -> str:
    """The call made through the SDK; its id, from the answer's Location."""
    raw = await client(server, key).realtime.calls.with_raw_response.create(sdp=await caller.offer(), session=session)
    assert raw.http_response.status_code == 201
    assert raw.http_response.headers["content-type"].startswith("application/sdp")
    location = raw.http_response.headers["location"]
    assert location.startswith("/v1/realtime/calls/rtc_")
    await caller.connect(raw.http_response.text)
    return location.rsplit("/", 1)[-1]


TEXT = {"type": "realtime", "model": CHAT, "output_modalities": ["text"], "instructions": "Be brief."}


async def test_a_text_turn_over_the_data_channel_then_a_sideband_server_and_hangup(
        live: LiveServer, fake_openai: FakeUpstream) -> None:
    fake_openai.script(ow.stream(["Hel", "lo ", "there!"], use=ow.usage(prompt=12, completion=3)))
    caller = Caller()
    try:
        call_id = await call(live, caller, TEXT)
        created = (await caller.until("session.created"))[-1]
        assert created["session"]["model"] == CHAT and created["session"]["instructions"] == "Be brief."
        assert created["session"]["output_modalities"] == ["text"]
        caller.send({"type": "conversation.item.create", "item": {
            "type": "message", "role": "user", "content": [{"type": "input_text", "text": "Say hello"}]}})
        caller.send({"type": "response.create"})
        events = await caller.until("response.done")
        text = "".join(e["delta"] for e in events if e["type"] == "response.output_text.delta")
        assert text == "Hello there!"
        done = events[-1]["response"]
        assert done["status"] == "completed" and done["usage"]["output_tokens"] == 3
        assert fake_openai.last.body["messages"][0] == {"role": "system", "content": "Be brief."}

        # a server joins the call with the SDK's sideband socket; its update reaches the caller too
        async with client(live).realtime.connect(call_id=call_id) as sideband:
            await sideband.session.update(session={"type": "realtime", "instructions": "Be terse."})
            seen = await asyncio.wait_for(_until(sideband, "session.updated"), 20)
            assert seen[-1]["session"]["instructions"] == "Be terse."
            mine = (await caller.until("session.updated"))[-1]
            assert mine["session"]["instructions"] == "Be terse." and mine["session"]["id"] == created["session"]["id"]
            # another project knows no such call
            stranger = client(live, project_key(live.url, "webrtc-stranger"))
            with pytest.raises(openai.NotFoundError) as missing:
                await stranger.realtime.calls.hangup(call_id)
            assert missing.value.body["param"] == "call_id"  # type: ignore[index]
            await client(live).realtime.calls.hangup(call_id)
            await asyncio.wait_for(caller.closed.wait(), 20)
        with pytest.raises(openai.NotFoundError):
            await client(live).realtime.calls.hangup(call_id)
    finally:
        await caller.close()


async def _until(connection: Any, kind: str) -> list[dict[str, Any]]:
    got: list[dict[str, Any]] = []
    async for parsed in connection:
        event = parsed.to_dict()
        assert_valid(CHECK, event, event["type"])
        got.append(event)
        if event["type"] == kind:
            return got
    raise AssertionError(f"the socket closed before {kind}")


async def test_a_client_secret_call_with_a_bare_sdp_offer(live: LiveServer, fake_openai: FakeUpstream) -> None:
    secret = await client(live).realtime.client_secrets.create(session=TEXT)  # type: ignore[arg-type]
    fake_openai.script(ow.stream(["Fine."]))
    caller = Caller()
    try:
        async with httpx.AsyncClient(base_url=live.url, timeout=30) as http:
            answer = await http.post("/v1/realtime/calls", content=await caller.offer(), headers={
                "authorization": f"Bearer {secret.value}", "content-type": "application/sdp"})
        assert answer.status_code == 201, answer.text
        await caller.connect(answer.text)
        created = (await caller.until("session.created"))[-1]
        assert created["session"]["model"] == CHAT and created["session"]["instructions"] == "Be brief."
        caller.send({"type": "response.create", "response": {"input": [
            {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "How are you?"}]}]}})
        events = await caller.until("response.done")
        assert "".join(e["delta"] for e in events if e["type"] == "response.output_text.delta") == "Fine."
    finally:
        await caller.close()


async def test_offers_that_cannot_be_answered_are_400s_naming_the_field(live: LiveServer) -> None:
    sdk = client(live)
    with pytest.raises(openai.BadRequestError) as garbage:
        await sdk.realtime.calls.create(sdp="v=0\r\nthis is not an offer\r\n", session=TEXT)  # type: ignore[arg-type]
    assert garbage.value.body["param"] == "sdp"  # type: ignore[index]
    audio_only = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    audio_only.addTransceiver("audio")
    try:
        await audio_only.setLocalDescription(await audio_only.createOffer())
        with pytest.raises(openai.BadRequestError) as channel:
            await sdk.realtime.calls.create(sdp=audio_only.localDescription.sdp, session=TEXT)  # type: ignore[arg-type]
        assert channel.value.body["param"] == "sdp" and "oai-events" in channel.value.message  # type: ignore[index]
    finally:
        await audio_only.close()
    caller = Caller()
    try:
        offer = await caller.offer()
        with pytest.raises(openai.BadRequestError) as model:
            await sdk.realtime.calls.create(sdp=offer, session={"type": "realtime"})
        assert model.value.body["param"] == "session.model"  # type: ignore[index]
        with pytest.raises(openai.NotFoundError) as unknown:
            await sdk.realtime.calls.create(sdp=offer, session={"type": "realtime", "model": "no-such-model"})
        assert unknown.value.status_code == 404
        async with httpx.AsyncClient(base_url=live.url, timeout=30) as http:
            plain = await http.post("/v1/realtime/calls", content=offer, headers={
                "authorization": f"Bearer {MASTER_KEY}", "content-type": "text/plain"})
            assert plain.status_code == 400 and plain.json()["error"]["code"] == "invalid_content_type"
            extra = await http.post("/v1/realtime/calls", files={"sdp": (None, offer), "colour": (None, "red")},
                                    headers={"authorization": f"Bearer {MASTER_KEY}"})
            assert extra.status_code == 400 and extra.json()["error"]["param"] == "colour"
            anonymous = await http.post("/v1/realtime/calls", content=offer,
                                        headers={"content-type": "application/sdp"})
            assert anonymous.status_code == 401
    finally:
        await caller.close()
    with pytest.raises(openai.NotFoundError):
        await sdk.realtime.calls.accept("rtc_nosuchcall", type="realtime")
