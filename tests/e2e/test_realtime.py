"""The Realtime API through the official SDK's realtime client (``client.realtime.connect``)
on a chat model relayed to a scripted fake upstream: the session handshake and update, a
text turn with the GA event sequence, function calling round trip, cancel mid-response,
conversation item operations, ephemeral client secrets, errors that name the field and the
client's event and leave the session usable, and usage in the ledger."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import numpy as np
import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus

from tests.e2e.ledger import newest_id, wait_new
from tests.e2e.realtime_support import of, receive, session, types, until
from tests.e2e.test_no_server_errors import BODIES
from tests.fakes import openai_wire as ow
from tests.fakes.upstream import FakeUpstream
from tests.server import MASTER_KEY, LiveServer, sdk
from tests.tenants import admin_client, new_key, new_project, revoke_key

CHAT = "gpt-fake"


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory, fake_openai: FakeUpstream) -> Iterator[LiveServer]:
    models = [{"name": CHAT, "provider": "openai", "base_url": fake_openai.url + "/v1", "api_key": "upstream-key",
               "model": "gpt-upstream", "timeout": 5, "aliases": ["gpt-realtime*"]}]
    server = LiveServer(tmp_path_factory.mktemp("switchyard-realtime"), models, auth_cache_seconds=0)
    server.start(wait_ready=True)
    yield server
    server.stop()


def text_session(connection: Any, created: dict[str, Any] | None = None, **session: Any) -> dict[str, Any]:
    """The session, updated for text output and ``session``, after its ``session.created``."""
    created = created or receive(connection)
    assert created["type"] == "session.created"
    connection.session.update(session={"type": "realtime", "output_modalities": ["text"], **session})
    updated = until(connection, "session.updated")[-1]
    return updated["session"]


def say(connection: Any, text: str) -> list[dict[str, Any]]:
    connection.conversation.item.create(item={"type": "message", "role": "user",
                                              "content": [{"type": "input_text", "text": text}]})
    return until(connection, "conversation.item.done")


def test_a_text_turn_streams_the_ga_events_and_meters_the_call(live: LiveServer, fake_openai: FakeUpstream) -> None:
    fake_openai.script(ow.stream(["Hel", "lo ", "there!"], use=ow.usage(prompt=21, completion=3)))
    since = newest_id(live)
    with session(live, "gpt-realtime") as connection:
        created = receive(connection)
        assert created["type"] == "session.created"
        assert created["session"]["model"] == "gpt-realtime" and created["session"]["type"] == "realtime"
        assert created["session"]["output_modalities"] == ["text"]  # no speech model is configured here
        session_out = text_session(connection, created, instructions="Be brief.")
        assert session_out["instructions"] == "Be brief." and session_out["id"] == created["session"]["id"]
        added = say(connection, "Say hello")
        assert types(added) == ["conversation.item.added", "conversation.item.done"]
        user_item = added[0]["item"]
        assert user_item["id"].startswith("item_") and user_item["object"] == "realtime.item"
        connection.response.create()
        events = until(connection, "response.done")
        limits = receive(connection)
        assert limits["type"] == "rate_limits.updated" and limits["rate_limits"] == []  # no limits configured
    assert types(events) == [
        "response.created", "response.output_item.added", "conversation.item.added",
        "response.content_part.added", "response.output_text.delta", "response.output_text.delta",
        "response.output_text.delta", "response.output_text.done", "response.content_part.done",
        "response.output_item.done", "conversation.item.done", "response.done"]
    assert "".join(e["delta"] for e in of(events, "response.output_text.delta")) == "Hello there!"
    assert of(events, "response.output_text.done")[0]["text"] == "Hello there!"
    assert of(events, "conversation.item.added")[0]["previous_item_id"] == user_item["id"]
    done = events[-1]["response"]
    assert done["status"] == "completed" and done["id"] == events[0]["response"]["id"]
    assert done["output"][0]["content"] == [{"type": "output_text", "text": "Hello there!"}]
    assert done["usage"]["input_tokens"] == 21 and done["usage"]["output_tokens"] == 3
    sent = fake_openai.last.body
    assert sent["stream"] is True and sent["model"] == "gpt-upstream"
    assert [(m["role"], m["content"]) for m in sent["messages"]] == [("system", "Be brief."), ("user", "Say hello")]
    entry = wait_new(live, since, 1)[0]
    assert entry["usage"]["input_tokens"] == 21 and entry["usage"]["output_tokens"] == 3
    assert entry["model"] == CHAT


def test_the_conversation_carries_over_turns_and_items_can_be_read_and_deleted(
        live: LiveServer, fake_openai: FakeUpstream) -> None:
    fake_openai.script(ow.stream(["One."]), ow.stream(["Two."]))
    with session(live, CHAT) as connection:
        text_session(connection, instructions="")
        first = say(connection, "first")[0]["item"]
        connection.response.create()
        answer = until(connection, "response.done")[-1]["response"]["output"][0]
        say(connection, "second")
        connection.send({"type": "conversation.item.retrieve", "item_id": answer["id"], "event_id": "ev_r"})
        retrieved = until(connection, "conversation.item.retrieved")[-1]
        assert retrieved["item"]["content"] == [{"type": "output_text", "text": "One."}]
        connection.send({"type": "conversation.item.delete", "item_id": first["id"]})
        assert until(connection, "conversation.item.deleted")[-1]["item_id"] == first["id"]
        connection.response.create()
        until(connection, "response.done")
    sent = fake_openai.last.body["messages"]
    assert [(m["role"], m["content"]) for m in sent] == [("assistant", "One."), ("user", "second")]


def test_an_out_of_band_response_leaves_the_conversation_alone(live: LiveServer, fake_openai: FakeUpstream) -> None:
    fake_openai.script(ow.stream(["positive"]))
    with session(live, CHAT) as connection:
        text_session(connection, instructions="")
        say(connection, "in the conversation")
        connection.response.create(response={
            "conversation": "none", "metadata": {"topic": "sentiment"}, "output_modalities": ["text"],
            "instructions": "Classify.", "input": [{"type": "message", "role": "user",
                                                   "content": [{"type": "input_text", "text": "I love it"}]}]})
        events = until(connection, "response.done")
        assert "conversation.item.added" not in types(events)
        done = events[-1]["response"]
        assert done["metadata"] == {"topic": "sentiment"} and done["conversation_id"] is None
        connection.send({"type": "conversation.item.retrieve", "item_id": done["output"][0]["id"]})
        assert until(connection, "error")[-1]["error"]["code"] == "item_not_found"
    assert [(m["role"], m["content"]) for m in fake_openai.last.body["messages"]] == [
        ("system", "Classify."), ("user", "I love it")]


def test_function_calling_round_trip(live: LiveServer, fake_openai: FakeUpstream) -> None:
    fake_openai.script(ow.stream([], tool_calls=[("call_w1", "get_weather", ['{"city"', ': "Paris"}'])]),
                       ow.stream(["It is sunny in Paris."]))
    tool = {"type": "function", "name": "get_weather", "description": "Weather in a city",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}
    with session(live, CHAT) as connection:
        out = text_session(connection, tools=[tool], tool_choice="auto")
        assert out["tools"][0]["name"] == "get_weather"
        say(connection, "Weather in Paris?")
        connection.response.create()
        events = until(connection, "response.done")
        assert types(events)[:3] == ["response.created", "response.output_item.added", "conversation.item.added"]
        deltas = of(events, "response.function_call_arguments.delta")
        assert "".join(d["delta"] for d in deltas) == '{"city": "Paris"}'
        done = of(events, "response.function_call_arguments.done")[0]
        assert (done["call_id"], done["name"], done["arguments"]) == ("call_w1", "get_weather", '{"city": "Paris"}')
        call = events[-1]["response"]["output"][0]
        assert call["type"] == "function_call" and call["call_id"] == "call_w1" and call["status"] == "completed"
        connection.conversation.item.create(item={"type": "function_call_output", "call_id": "call_w1",
                                                  "output": '{"sky": "sunny"}'})
        until(connection, "conversation.item.done")
        connection.response.create()
        final = until(connection, "response.done")[-1]["response"]
    assert final["output"][0]["content"][0]["text"] == "It is sunny in Paris."
    first, second = fake_openai.received[-2].body, fake_openai.received[-1].body
    assert first["tools"][0]["function"]["name"] == "get_weather"
    assistant, result = second["messages"][-2], second["messages"][-1]
    assert assistant["tool_calls"][0]["id"] == "call_w1"
    assert assistant["tool_calls"][0]["function"]["arguments"] == '{"city": "Paris"}'
    assert result == {"role": "tool", "tool_call_id": "call_w1", "content": '{"sky": "sunny"}'}


def test_cancel_mid_response_ends_it_cancelled(live: LiveServer, fake_openai: FakeUpstream) -> None:
    fake_openai.script(ow.stream(["a"] * 40, delay=0.1))
    with session(live, CHAT) as connection:
        text_session(connection)
        say(connection, "count slowly")
        connection.response.create()
        events = until(connection, "response.output_text.delta")
        response_id = events[0]["response"]["id"]
        connection.response.cancel(event_id="ev_cancel")
        events = until(connection, "response.done")
        done = events[-1]["response"]
        assert done["status"] == "cancelled" and done["id"] == response_id
        assert done["status_details"] == {"type": "cancelled", "reason": "client_cancelled"}
        assert done["output"][0]["status"] == "incomplete"
        assert len(of(events, "response.output_text.delta")) < 39
        connection.response.cancel(event_id="ev_again")  # nothing is running now
        error = until(connection, "error")[-1]
        assert error["error"]["code"] == "response_cancel_not_active" and error["error"]["event_id"] == "ev_again"


def test_speech_during_a_response_interrupts_it(live: LiveServer, fake_openai: FakeUpstream) -> None:
    fake_openai.script(ow.stream(["a"] * 40, delay=0.1))
    tone = (np.sin(2 * np.pi * 220 * np.arange(4800) / 24000) * 0.3 * 32767).astype("<i2").tobytes()
    with session(live, CHAT) as connection:
        out = text_session(connection)
        assert out["audio"]["input"]["turn_detection"]["type"] == "server_vad"  # the default
        say(connection, "talk for a while")
        connection.response.create()
        until(connection, "response.output_text.delta")
        connection.input_audio_buffer.append(audio=base64.b64encode(tone).decode())
        events = until(connection, "response.done")
        assert of(events, "input_audio_buffer.speech_started")
        done = events[-1]["response"]
        assert done["status"] == "cancelled" and done["status_details"]["reason"] == "turn_detected"
        connection.input_audio_buffer.clear()
        until(connection, "input_audio_buffer.cleared")


def test_a_second_response_while_one_runs_is_an_error(live: LiveServer, fake_openai: FakeUpstream) -> None:
    fake_openai.script(ow.stream(["x"] * 10, delay=0.05))
    with session(live, CHAT) as connection:
        text_session(connection)
        say(connection, "hi")
        connection.response.create()
        until(connection, "response.created")
        connection.response.create(event_id="ev_second")
        events = until(connection, "response.done")
        errors = of(events, "error")
        assert errors and errors[0]["error"]["code"] == "conversation_already_has_active_response"
        assert errors[0]["error"]["event_id"] == "ev_second"
        assert events[-1]["response"]["status"] == "completed"


@pytest.mark.parametrize(("frame", "param", "code"), [
    ("not json", None, "invalid_json"),
    ({"type": "response.explode", "event_id": "e1"}, "type", "invalid_value"),
    ({"type": "conversation.item.create", "event_id": "e1", "item": {"type": "message", "role": "robot",
                                                                     "content": []}}, "item.role", "invalid_value"),
    ({"type": "conversation.item.create", "event_id": "e1",
      "item": {"type": "message", "role": "user", "content": [{"type": "input_text"}]}},
     "item.content[0].text", "missing_required_parameter"),
    ({"type": "input_audio_buffer.append", "event_id": "e1", "audio": "%%%"}, "audio", "invalid_value"),
    ({"type": "session.update", "event_id": "e1", "session": {"type": "realtime", "audio": {"input": {
        "turn_detection": {"type": "server_vad", "threshold": 7.5}}}}},
     "session.audio.input.turn_detection.threshold", "decimal_above_max_value"),
    ({"type": "session.update", "event_id": "e1", "session": {"type": "realtime", "output_modalities": ["video"]}},
     "session.output_modalities[0]", "invalid_value"),
    ({"type": "session.update", "event_id": "e1", "session": {"type": "realtime", "tool_choice": {
        "type": "function", "name": "nope"}}}, "session.tool_choice.name", "invalid_value"),
    ({"type": "conversation.item.retrieve", "event_id": "e1", "item_id": "item_missing"}, "item_id",
     "item_not_found"),
    ({"type": "conversation.item.truncate", "event_id": "e1", "item_id": "x", "content_index": 0}, "audio_end_ms",
     "missing_required_parameter"),
    ({"type": "input_audio_buffer.commit", "event_id": "e1"}, None, "input_audio_buffer_commit_empty"),
    ({"type": "response.create", "event_id": "e1", "response": {"max_output_tokens": 0}},
     "response.max_output_tokens", "invalid_value"),
    ({"type": "session.update", "event_id": "e1", "session": {"type": "realtime", "output_modalities": ["audio"]}},
     "session.output_modalities", "speech_model_unavailable"),  # this server has no speech model
    ({"type": "session.update", "event_id": "e1", "session": {"type": "transcription"}}, "session.type",
     "invalid_value"),  # a session's type is fixed when it opens
    ({"type": "session.update", "event_id": "e1", "session": {"type": "realtime", "audio": {"input": {
        "turn_detection": {"type": "semantic_vad", "threshold": 0.5}}}}},
     "session.audio.input.turn_detection.threshold", "unknown_parameter"),
    ({"type": "session.update", "event_id": "e1", "session": {"type": "realtime", "audio": {"input": {
        "turn_detection": {"type": "semantic_vad", "eagerness": "eager"}}}}},
     "session.audio.input.turn_detection.eagerness", "invalid_value"),
    ({"type": "session.update", "event_id": "e1", "session": {"type": "realtime", "audio": {"output": {
        "format": {"type": "audio/opus"}}}}}, "session.audio.output.format.type", "invalid_value"),
    ({"type": "session.update", "event_id": "e1", "session": {"type": "realtime", "audio": {"input": {
        "format": {"type": "audio/pcmu", "rate": 8000}}}}}, "session.audio.input.format.rate", "invalid_value"),
    ({"type": "response.create", "event_id": "e1", "response": {"audio": {"output": {"format": {
        "type": "audio/opus"}}}}}, "response.audio.output.format.type", "invalid_value"),
    ({"type": "input_audio_buffer.append", "event_id": "e1", "audio": "AAAA" + "A"}, "audio", "invalid_value"),
    ({"type": "input_audio_buffer.append", "event_id": "e1", "audio": "AA=="}, "audio", "invalid_value"),  # odd PCM
])
def test_bad_events_get_an_error_naming_the_field_and_the_session_goes_on(
        live: LiveServer, frame: Any, param: str | None, code: str) -> None:
    with session(live, CHAT) as connection:
        receive(connection)
        connection._connection.send(frame if isinstance(frame, str) else json.dumps(frame))  # as sent, unchecked
        error = receive(connection)
        assert error["type"] == "error", error
        assert error["error"]["param"] == param and error["error"]["code"] == code, error
        assert error["error"]["type"] == "invalid_request_error" and error["error"]["message"]
        assert error["error"]["event_id"] == (None if isinstance(frame, str) else "e1")
        connection.session.update(session={"type": "realtime", "instructions": "still here"})
        assert until(connection, "session.updated")[-1]["session"]["instructions"] == "still here"


def test_malformed_bodies_and_frames_never_fail_the_server_or_the_socket(live: LiveServer) -> None:
    for body in BODIES:
        answer = httpx.post(live.url + "/v1/realtime/client_secrets", content=body,
                            headers={"authorization": f"Bearer {MASTER_KEY}", "content-type": "application/json"})
        assert answer.status_code < 500, (body, answer.text)
        if answer.status_code >= 400:
            assert answer.json()["error"]["message"]
    with session(live, CHAT) as connection:
        receive(connection)
        for body in BODIES:
            connection._connection.send(body.decode() or " ")
            event = receive(connection)
            assert event["type"] == "error", (body, event)
        connection._connection.send(b"\x00binary")  # a binary frame
        assert receive(connection)["error"]["code"] == "invalid_json"
        connection.session.update(session={"type": "realtime", "instructions": "alive"})
        assert until(connection, "session.updated")[-1]["session"]["instructions"] == "alive"


def test_the_handshake_refuses_bad_keys_and_unknown_models(live: LiveServer) -> None:
    with pytest.raises(InvalidStatus) as refused, session(live, CHAT, key="sk-wrong"):
        pass
    assert refused.value.response.status_code == 401
    with pytest.raises(InvalidStatus) as unknown, session(live, "no-such-model"):
        pass
    assert unknown.value.response.status_code == 404
    assert json.loads(unknown.value.response.body)["error"]["param"] == "model"


def test_an_ephemeral_client_secret_opens_a_preconfigured_session(live: LiveServer,
                                                                  fake_openai: FakeUpstream) -> None:
    fake_openai.script(ow.stream(["Hi from the secret."]))
    secret = sdk(live).realtime.client_secrets.create(
        expires_after={"anchor": "created_at", "seconds": 120},
        session={"type": "realtime", "model": CHAT, "instructions": "Pirate voice.", "output_modalities": ["text"]})
    assert secret.value.startswith("ek_")
    assert abs(secret.expires_at - (time.time() + 120)) < 10
    assert secret.session.type == "realtime" and secret.session.instructions == "Pirate voice."
    with session(live, CHAT, key=secret.value) as connection:
        created = receive(connection)
        assert created["session"]["instructions"] == "Pirate voice."
        say(connection, "hello")
        connection.response.create()
        assert until(connection, "response.done")[-1]["response"]["status"] == "completed"
    assert fake_openai.last.body["messages"][0] == {"role": "system", "content": "Pirate voice."}
    # an ephemeral key opens realtime sessions and nothing else
    other = httpx.get(live.url + "/v1/models", headers={"authorization": f"Bearer {secret.value}"})
    assert other.status_code == 401


def test_client_secret_requests_are_checked(live: LiveServer) -> None:
    bad = httpx.post(live.url + "/v1/realtime/client_secrets", headers={"authorization": f"Bearer {MASTER_KEY}"},
                     json={"expires_after": {"anchor": "created_at", "seconds": 5}, "session": {"type": "realtime"}})
    assert bad.status_code == 400 and bad.json()["error"]["param"] == "expires_after.seconds"
    bad = httpx.post(live.url + "/v1/realtime/client_secrets", headers={"authorization": f"Bearer {MASTER_KEY}"},
                     json={"session": {"type": "realtime", "model": "no-such-model"}})
    assert bad.status_code == 404 and bad.json()["error"]["param"] == "session.model"
    with pytest.raises(InvalidStatus) as refused, session(live, CHAT, key="ek_not_a_real_secret"):
        pass
    assert refused.value.response.status_code == 401


def test_session_settings_round_trip_semantic_vad_and_g711(live: LiveServer) -> None:
    with session(live, CHAT) as connection:
        out = text_session(connection, audio={
            "input": {"format": {"type": "audio/pcmu"},
                      "turn_detection": {"type": "semantic_vad", "eagerness": "high", "create_response": False}},
            "output": {"format": {"type": "audio/pcma"}}})
        assert out["audio"]["input"]["format"] == {"type": "audio/pcmu"}
        assert out["audio"]["output"]["format"] == {"type": "audio/pcma"}
        assert out["audio"]["input"]["turn_detection"] == {
            "type": "semantic_vad", "eagerness": "high", "create_response": False, "interrupt_response": True}
        connection.session.update(session={"type": "realtime", "audio": {"input": {"turn_detection": {
            "type": "semantic_vad"}}}})
        assert until(connection, "session.updated")[-1]["session"]["audio"]["input"]["turn_detection"][
            "eagerness"] == "auto"


def test_a_client_secret_dies_with_the_key_that_made_it(live: LiveServer, fake_openai: FakeUpstream) -> None:
    project = new_project(live.url, "realtime-secrets")
    key_id, key = new_key(live.url, project, "secret maker")
    made = sdk(live, key).realtime.client_secrets.create(session={"type": "realtime", "model": CHAT})
    with session(live, CHAT, key=made.value) as connection:  # works while the key does
        assert receive(connection)["type"] == "session.created"
    revoke_key(live.url, project, key_id)
    with pytest.raises(InvalidStatus) as refused, session(live, CHAT, key=made.value):
        pass
    assert refused.value.response.status_code == 401
    # a disabled key's secret stops too
    key_id, key = new_key(live.url, project, "disabled later")
    made = sdk(live, key).realtime.client_secrets.create(session={"type": "realtime", "model": CHAT})
    with admin_client(live.url) as admin:
        assert admin.post(f"/projects/{project}/api_keys/{key_id}", json={"enabled": False}).status_code == 200
    with pytest.raises(InvalidStatus) as refused, session(live, CHAT, key=made.value):
        pass
    assert refused.value.response.status_code == 401
    # and so does one whose project is archived
    other = new_project(live.url, "realtime-archived")
    _, key = new_key(live.url, other, "archived later")
    made = sdk(live, key).realtime.client_secrets.create(session={"type": "realtime", "model": CHAT})
    with admin_client(live.url) as admin:
        assert admin.post(f"/projects/{other}/archive").status_code == 200
    with pytest.raises(InvalidStatus) as refused, session(live, CHAT, key=made.value):
        pass
    assert refused.value.response.status_code == 401


def test_an_open_session_ends_when_its_key_is_revoked(live: LiveServer, fake_openai: FakeUpstream) -> None:
    project = new_project(live.url, "realtime-revoked")
    key_id, key = new_key(live.url, project, "revoked mid-session")
    made = sdk(live, key).realtime.client_secrets.create(session={"type": "realtime", "model": CHAT})
    fake_openai.script(ow.stream(["first"]))
    with session(live, CHAT, key=made.value) as connection:
        text_session(connection)
        say(connection, "hello")
        connection.response.create()
        assert until(connection, "response.done")[-1]["response"]["status"] == "completed"
        revoke_key(live.url, project, key_id)
        connection.response.create(event_id="ev_after")
        error = until(connection, "error")[-1]["error"]
        assert error["code"] == "invalid_api_key" and error["event_id"] == "ev_after"
        with pytest.raises(ConnectionClosed):
            connection.recv_bytes()
    assert fake_openai.last.body["messages"][-1]["content"] == "hello"  # no second model call
