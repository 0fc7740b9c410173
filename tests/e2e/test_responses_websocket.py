"""WebSocket mode of /v1/responses through the official SDK's client
(``client.responses.connect()``): handshake auth, turns in sequence, the
connection's cache of ``store: false`` responses, lanes, errors that leave the
connection usable, and cancellation when the client goes away."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import openai
import pytest
from openai.types.responses.responses_server_event import ResponseWsError
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect as raw_connect

from switchyard.surfaces.openai.responses_ws import MAX_LANES, MAX_WAITING
from tests.conftest import LOCAL, VIA_OPENAI
from tests.e2e.raw import sse
from tests.e2e.responses_stream_validator import check_stream
from tests.e2e.test_no_server_errors import BODIES
from tests.fakes import openai_wire as ow
from tests.server import MASTER_KEY
from tests.tenants import project_key

TERMINAL = ("response.completed", "response.incomplete", "response.failed")


@contextmanager
def socket(server: Any, key: str = MASTER_KEY) -> Iterator[Any]:
    client = openai.OpenAI(base_url=server.url + "/v1", api_key=key, max_retries=0)
    with client.responses.connect() as connection:
        yield connection


def receive(connection: Any) -> dict[str, Any]:
    """The next event as sent, after checking that the SDK parses it as that event."""
    raw = connection.recv_bytes()
    event = json.loads(raw)
    assert connection.parse_event(raw).type == event["type"]
    return event


def turn(connection: Any) -> list[dict[str, Any]]:
    """Events up to a terminal event, or a lone error event."""
    events = [receive(connection)]
    while events[-1]["type"] not in (*TERMINAL, "error"):
        events.append(receive(connection))
    return events


def error_of(connection: Any) -> dict[str, Any]:
    event = receive(connection)
    assert event["type"] == "error", event
    ResponseWsError.model_validate(event)  # the SDK's own model of the event, strictly
    assert isinstance(event["error"]["code"], str) and event["status"] >= 400  # Open Responses wants a code
    return event


def final(events: list[dict[str, Any]]) -> dict[str, Any]:
    assert events[-1]["type"] == "response.completed", events[-1]
    return events[-1]["response"]


def text_of(response: dict[str, Any]) -> str:
    return "".join(part["text"] for item in response["output"] if item["type"] == "message"
                   for part in item["content"] if part["type"] == "output_text")



def test_a_turn_sends_the_sse_events_one_per_frame(server, fake_openai) -> None:
    fake_openai.script(ow.stream(["Hel", "lo ", "there"]), ow.stream(["Hel", "lo ", "there"]))
    body = {"model": VIA_OPENAI, "input": "Say hello", "stream": True}
    frames = sse(server, "/v1/responses", body)
    assert frames[-1][1] == "[DONE]"  # the SSE stream's end marker; a socket has no such frame
    over_http = [json.loads(data) for _, data in frames[:-1]]
    with socket(server) as connection:
        connection.response.create(model=VIA_OPENAI, input="Say hello")
        events = turn(connection)
    check_stream(events)
    assert [e["type"] for e in events] == [e["type"] for e in over_http]
    assert [e["sequence_number"] for e in events] == list(range(len(events)))
    assert text_of(final(events)) == "Hello there"
    assert "stream_id" not in events[0]


def test_handshake_refuses_a_bad_key_like_http(server) -> None:
    with pytest.raises(InvalidStatus) as refused, socket(server, key="sk-wrong"):
        pass
    assert refused.value.response.status_code == 401
    assert json.loads(refused.value.response.body)["error"]["code"] == "invalid_api_key"
    with pytest.raises(InvalidStatus) as missing:
        raw_connect(server.url.replace("http", "ws") + "/v1/responses")
    assert missing.value.response.status_code == 401
    assert json.loads(missing.value.response.body)["error"]["code"] == "missing_api_key"


def test_x_api_key_header_opens_a_connection(server, fake_openai) -> None:
    fake_openai.script(ow.stream(["ok"]))
    url = server.url.replace("http", "ws") + "/v1/responses"
    with raw_connect(url, additional_headers={"x-api-key": MASTER_KEY}) as ws:
        ws.send(json.dumps({"type": "response.create", "model": VIA_OPENAI, "input": "hi"}))
        events = [json.loads(ws.recv())]
        while events[-1]["type"] not in TERMINAL:
            events.append(json.loads(ws.recv()))
    assert text_of(final(events)) == "ok"


def test_a_stored_api_key_works_and_sees_only_its_own_responses(server, fake_openai) -> None:
    fake_openai.script(ow.stream(["mine"]), ow.stream(["theirs"]))
    with socket(server) as connection:
        connection.response.create(model=VIA_OPENAI, input="private")
        mine = final(turn(connection))
    with socket(server, key=project_key(server.url, "ws-other")) as connection:
        connection.response.create(model=VIA_OPENAI, input="peek", previous_response_id=mine["id"])
        assert error_of(connection)["error"]["code"] == "previous_response_not_found"
        connection.response.create(model=VIA_OPENAI, input="own")
        assert text_of(final(turn(connection))) == "theirs"
    assert len(fake_openai.received) == 2


@pytest.mark.parametrize("field", ["stream", "background"])
def test_transport_fields_are_refused_by_name(server, fake_openai, field) -> None:
    fake_openai.script(ow.stream(["still here"]))
    with socket(server) as connection:
        connection.send({"type": "response.create", "model": VIA_OPENAI, "input": "hi", field: True})
        error = error_of(connection)
        assert error["status"] == 400 and error["error"]["param"] == field
        assert error["error"]["type"] == "invalid_request_error"
        connection.response.create(model=VIA_OPENAI, input="hi")
        assert text_of(final(turn(connection))) == "still here"
    assert len(fake_openai.received) == 1


def test_bad_json_and_unknown_events_leave_the_connection_usable(server, fake_openai) -> None:
    fake_openai.script(ow.stream(["fine"]))
    with socket(server) as connection:
        connection.send_raw("{not json")
        assert error_of(connection)["error"]["code"] == "invalid_json"
        connection.send_raw("[1, 2]")
        assert error_of(connection)["error"]["code"] == "invalid_json"
        connection.send_raw(json.dumps({"type": "response.cancel"}))
        unknown = error_of(connection)["error"]
        assert unknown["param"] == "type" and "response.cancel" in unknown["message"]
        connection.send({"type": "response.create", "input": "no model"})
        assert error_of(connection)["error"]["param"] == "model"
        connection.send({"type": "response.create", "model": VIA_OPENAI, "input": "hi", "stream_id": "a b"})
        assert error_of(connection)["error"]["code"] == "invalid_stream_id"
        connection.response.create(model=VIA_OPENAI, input="hi")
        assert text_of(final(turn(connection))) == "fine"


def test_malformed_events_never_get_a_server_error(server) -> None:
    with socket(server) as connection:
        for body in BODIES:
            try:
                parsed = json.loads(body)
            except ValueError:
                parsed = None
            frame = json.dumps({**parsed, "type": "response.create"}) if isinstance(parsed, dict) else body
            connection.send_raw(frame)
            answer = turn(connection)[-1]  # nothing is scripted upstream: a valid create fails there
            status = answer.get("status") if answer["type"] == "error" else 502
            assert answer["type"] in ("error", "response.failed") and (status < 500 or status == 502), (body, answer)


def test_store_false_turns_chain_on_the_same_connection(oai, server, fake_openai) -> None:
    fake_openai.script(ow.stream(["Noted: Ada."]), ow.stream(["You are Ada."]), ow.stream(["Still Ada."]))
    with socket(server) as connection:
        connection.response.create(model=VIA_OPENAI, input="My name is Ada.", store=False)
        first = final(turn(connection))
        connection.response.create(model=VIA_OPENAI, input="Who am I?", store=False,
                                   previous_response_id=first["id"])
        second = final(turn(connection))
        assert ow.sent_texts(fake_openai.last.body) == [
            ("user", "My name is Ada."), ("assistant", "Noted: Ada."), ("user", "Who am I?")]
        connection.response.create(model=VIA_OPENAI, input="Sure?", store=False,
                                   previous_response_id=second["id"])
        final(turn(connection))
        assert ow.sent_texts(fake_openai.last.body) == [
            ("user", "My name is Ada."), ("assistant", "Noted: Ada."), ("user", "Who am I?"),
            ("assistant", "You are Ada."), ("user", "Sure?")]
    assert second["previous_response_id"] == first["id"] and second["store"] is False
    with pytest.raises(openai.NotFoundError):
        oai.responses.retrieve(first["id"])


def test_only_the_latest_store_false_response_is_kept(server, fake_openai) -> None:
    fake_openai.script(ow.stream(["one"]), ow.stream(["two"]))
    with socket(server) as connection:
        connection.response.create(model=VIA_OPENAI, input="1", store=False)
        first = final(turn(connection))
        connection.response.create(model=VIA_OPENAI, input="2", store=False, previous_response_id=first["id"])
        final(turn(connection))
        connection.response.create(model=VIA_OPENAI, input="fork", store=False, previous_response_id=first["id"])
        error = error_of(connection)
    assert error["error"]["code"] == "previous_response_not_found"
    assert len(fake_openai.received) == 2


def test_unknown_previous_response_is_previous_response_not_found(server, fake_openai) -> None:
    fake_openai.script(ow.stream(["recovered"]))
    with socket(server) as connection:
        connection.response.create(model=VIA_OPENAI, input="hi", previous_response_id="resp_nope")
        error = error_of(connection)
        assert error["status"] == 400
        assert error["error"] | {"message": ""} == {"type": "invalid_request_error", "message": "",
                                                      "code": "previous_response_not_found",
                                                      "param": "previous_response_id"}
        assert "resp_nope" in error["error"]["message"]
        connection.response.create(model=VIA_OPENAI, input="hi")
        assert text_of(final(turn(connection))) == "recovered"
    assert len(fake_openai.received) == 1


def test_a_new_connection_starts_empty(server, fake_openai) -> None:
    fake_openai.script(ow.stream(["first"]), ow.stream(["continued"]))
    with socket(server) as first_connection:
        first_connection.response.create(model=VIA_OPENAI, input="hi", store=False)
        first = final(turn(first_connection))
        with socket(server) as second_connection:
            second_connection.response.create(model=VIA_OPENAI, input="more", store=False,
                                              previous_response_id=first["id"])
            assert error_of(second_connection)["error"]["code"] == "previous_response_not_found"
        first_connection.response.create(model=VIA_OPENAI, input="more", store=False,
                                         previous_response_id=first["id"])
        assert text_of(final(turn(first_connection))) == "continued"


@pytest.mark.parametrize("failure", ["orphan output", "upstream refusal", "upstream failure"])
def test_a_failed_continuation_evicts_its_parent(server, fake_openai, failure) -> None:
    fake_openai.script(ow.stream(["kept"]))
    more: Any = "more"
    if failure == "orphan output":
        more = [{"type": "function_call_output", "call_id": "call_nowhere", "output": "?"}]
    else:
        fake_openai.script(ow.error(400, "no such thing") if failure == "upstream refusal"
                           else ow.error(500, "upstream broke"))
    with socket(server) as connection:
        connection.response.create(model=VIA_OPENAI, input="hi", store=False)
        parent = final(turn(connection))
        connection.response.create(model=VIA_OPENAI, input=more, store=False, previous_response_id=parent["id"])
        events = turn(connection)
        if failure == "upstream failure":
            check_stream(events)
            assert events[-1]["type"] == "response.failed"
        else:
            assert events[-1]["type"] == "error" and events[-1]["status"] == 400
        connection.response.create(model=VIA_OPENAI, input="again", store=False,
                                   previous_response_id=parent["id"])
        assert error_of(connection)["error"]["code"] == "previous_response_not_found"
    assert len(fake_openai.received) == (1 if failure == "orphan output" else 2)


def test_a_tool_output_must_answer_a_call(oai, fake_openai) -> None:
    orphan = {"type": "function_call_output", "call_id": "call_nowhere", "output": "?"}
    with pytest.raises(openai.BadRequestError) as refused:
        oai.responses.create(model=VIA_OPENAI, input=[{"role": "user", "content": "hi"}, orphan])
    assert refused.value.body["param"] == "input[1]" and "call_nowhere" in refused.value.body["message"]
    fake_openai.script(ow.completion("answered"))
    call = {"type": "function_call", "call_id": "call_here", "name": "get_time", "arguments": "{}"}
    answered = oai.responses.create(model=VIA_OPENAI, input=[call, {**orphan, "call_id": "call_here"}])
    assert answered.output_text == "answered" and len(fake_openai.received) == 1


def test_store_true_responses_are_stored_and_chain_anywhere(oai, server, fake_openai) -> None:
    fake_openai.script(ow.stream(["Noted."]), ow.stream(["From storage."]), ow.completion("Over HTTP."))
    with socket(server) as connection:
        connection.response.create(model=VIA_OPENAI, input="Remember 7.")
        stored = final(turn(connection))
    assert oai.responses.retrieve(stored["id"]).output_text == "Noted."
    with socket(server) as connection:
        connection.response.create(model=VIA_OPENAI, input="What number?", previous_response_id=stored["id"])
        second = final(turn(connection))
    assert ow.sent_texts(fake_openai.last.body) == [
        ("user", "Remember 7."), ("assistant", "Noted."), ("user", "What number?")]
    third = oai.responses.create(model=VIA_OPENAI, input="Again?", previous_response_id=second["id"])
    assert third.output_text == "Over HTTP."
    assert ow.sent_texts(fake_openai.last.body)[-3:] == [
        ("user", "What number?"), ("assistant", "From storage."), ("user", "Again?")]


def test_creates_sent_together_run_one_after_another(server, fake_openai) -> None:
    fake_openai.script(ow.stream(["a", "b", "c"], delay=0.05), ow.stream(["second"]))
    with socket(server) as connection:
        connection.response.create(model=VIA_OPENAI, input="one", store=False)
        connection.response.create(model=VIA_OPENAI, input="two", store=False)
        first = turn(connection)
        second = turn(connection)
    check_stream(first)
    check_stream(second)
    assert text_of(final(first)) == "abc" and text_of(final(second)) == "second"
    assert final(first)["id"] != final(second)["id"]


def test_lanes_echo_their_stream_id_and_fork_from_each_other(server, fake_openai) -> None:
    fake_openai.script(ow.stream(["root"]), ow.error(400, "bad fork"), ow.stream(["fork"]), ow.stream(["main"]))
    with socket(server) as connection:
        connection.response.create(model=VIA_OPENAI, input="start", store=False, stream_id="main")
        root = turn(connection)
        assert {e.get("stream_id") for e in root} == {"main"}
        root_id = final(root)["id"]
        connection.response.create(model=VIA_OPENAI, input="side", store=False, stream_id="side",
                                   previous_response_id=root_id)
        failed_fork = error_of(connection)
        assert failed_fork["stream_id"] == "side" and failed_fork["status"] == 400
        connection.response.create(model=VIA_OPENAI, input="side", store=False, stream_id="side",
                                   previous_response_id=root_id)
        side = turn(connection)
        assert {e.get("stream_id") for e in side} == {"side"}
        assert ow.sent_texts(fake_openai.last.body) == [("user", "start"), ("assistant", "root"), ("user", "side")]
        check_stream([{k: v for k, v in e.items() if k != "stream_id"} for e in side])
        connection.response.create(model=VIA_OPENAI, input="on", store=False, stream_id="main",
                                   previous_response_id=root_id)
        assert text_of(final(turn(connection))) == "main"


def test_warmup_prepares_state_without_generating(server, fake_openai) -> None:
    fake_openai.script(ow.stream(["warm answer"]))
    with socket(server) as connection:
        connection.response.create(model=VIA_OPENAI, instructions="Be brief.", input="Context: 42.",
                                   store=False, generate=False)
        warm = turn(connection)
        check_stream(warm)
        assert final(warm)["output"] == [] and fake_openai.received == []
        connection.response.create(model=VIA_OPENAI, input="Answer.", store=False,
                                   previous_response_id=final(warm)["id"])
        assert text_of(final(turn(connection))) == "warm answer"
    assert ow.sent_texts(fake_openai.last.body) == [("user", "Context: 42."), ("user", "Answer.")]


def test_closing_the_connection_cancels_the_generation(server, fake_openai) -> None:
    fake_openai.script(ow.stream([f"word{n} " for n in range(120)], delay=0.5))  # a minute of text
    with socket(server) as connection:
        connection.response.create(model=VIA_OPENAI, input="talk forever", store=False)
        while receive(connection)["type"] != "response.output_text.delta":
            pass
    deadline = time.monotonic() + 30
    while not fake_openai.abandoned and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(fake_openai.abandoned) == 1


@pytest.mark.slow
def test_embedded_model_turns_chain_over_one_connection(server) -> None:
    with socket(server) as connection:
        connection.response.create(model=LOCAL, input="My favourite colour is green. Reply with OK.",
                                   store=False, max_output_tokens=16, temperature=0)
        first = turn(connection)
        check_stream(first)
        connection.response.create(model=LOCAL, input="What is my favourite colour? One word.", store=False,
                                   max_output_tokens=16, temperature=0, previous_response_id=final(first)["id"])
        second = turn(connection)
    check_stream(second)
    assert second[-1]["type"] in ("response.completed", "response.incomplete")
    assert "green" in text_of(second[-1]["response"]).lower()


def test_lanes_per_connection_are_limited(server) -> None:
    with socket(server) as connection:
        for n in range(MAX_LANES + 1):
            connection.send({"type": "response.create", "input": "no model", "stream_id": f"lane{n}"})
        errors = [error_of(connection) for _ in range(MAX_LANES + 1)]
    limited = [e for e in errors if e["error"]["code"] == "websocket_stream_limit_reached"]
    assert [(e["stream_id"], e["error"]["param"]) for e in limited] == [(f"lane{MAX_LANES}", "stream_id")]
    assert sorted(e["stream_id"] for e in errors if e["error"]["param"] == "model") == sorted(
        f"lane{n}" for n in range(MAX_LANES))


def test_waiting_creates_are_limited(server, fake_openai) -> None:
    fake_openai.script(ow.stream(["slow", " answer"], delay=0.5))
    with socket(server) as connection:
        connection.response.create(model=VIA_OPENAI, input="first", store=False)
        assert receive(connection)["type"] == "response.created"
        for _ in range(MAX_WAITING + 2):
            connection.send({"type": "response.create", "input": "no model"})
        events: list[dict[str, Any]] = []
        while sum(e["type"] == "error" for e in events) < MAX_WAITING + 2:
            events.append(receive(connection))
    errors = [e for e in events if e["type"] == "error"]
    full = [e for e in errors if e["error"]["code"] == "websocket_queue_full"]
    assert len(full) == 2 and {e["status"] for e in full} == {429}
    assert [e["error"]["param"] for e in errors if e not in full] == ["model"] * MAX_WAITING
    done = [e for e in events if e["type"] == "response.completed"]
    assert len(done) == 1 and text_of(done[0]["response"]) == "slow answer"
    assert events.index(done[0]) < events.index(next(e for e in errors if e not in full))
