"""What the Open Responses compliance suite checks over HTTP, written from the spec and
run through the official SDK: the Response object and every streaming event validate
against the Open Responses schemas (and OpenAI's), on the embedded model where it can do
the task and on a scripted vision upstream for image input; presence/frequency
penalties reach the model; ``usage`` is null until known; ``/v1/responses/compact``."""

from __future__ import annotations

import base64
import json
import struct
import time
import zlib
from typing import Any

import httpx
import openai
import pytest

from tests.conftest import LOCAL, VIA_OPENAI
from tests.e2e.raw import sse
from tests.fakes import openai_wire as ow
from tests.server import MASTER_KEY, LiveServer
from tests.spec_openresponses import validate_open_responses, validate_open_responses_event

WEATHER = {"type": "function", "name": "get_weather", "description": "Get the current weather for a location",
           "parameters": {"type": "object", "properties": {
               "location": {"type": "string", "description": "The city and state, e.g. San Francisco, CA"}},
               "required": ["location"]}}


def png_data_url(width: int = 8, height: int = 8) -> str:
    """A real PNG (solid red), as a data URL."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    png = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
           + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))
    return "data:image/png;base64," + base64.b64encode(png).decode()


IMAGE = png_data_url()


def user(text: str) -> dict[str, Any]:
    return {"type": "message", "role": "user", "content": text}


def create(oai: openai.OpenAI, **body: Any) -> dict[str, Any]:
    """The raw body of a create, after the strict SDK client parsed it; checked against the spec."""
    raw = oai.responses.with_raw_response.create(**body)
    raw.parse()
    data = raw.http_response.json()
    validate_open_responses(data, "ResponseResource")
    return data


def stream(oai: openai.OpenAI, **body: Any) -> list[dict[str, Any]]:
    events = [e.model_dump(mode="json", exclude_unset=True) for e in oai.responses.create(stream=True, **body)]
    for event in events:
        validate_open_responses_event(event)
    in_order(events)
    return events


def in_order(events: list[dict[str, Any]]) -> None:
    """The spec's stream state machine: numbered from 0, ``response.created`` first and a
    terminal lifecycle event last; every item added, streamed, then done, once, in order."""
    assert [e["sequence_number"] for e in events] == list(range(len(events)))
    assert events[0]["type"] == "response.created"
    assert events[-1]["type"] in ("response.completed", "response.incomplete", "response.failed")
    open_items: dict[int, str] = {}
    done: list[str] = []
    for event in events[1:-1]:
        if event["type"] == "response.output_item.added":
            assert event["output_index"] == len(open_items) + len(done) and event["item"]["id"] not in done
            open_items[event["output_index"]] = event["item"]["id"]
        elif event["type"] == "response.output_item.done":
            assert open_items.pop(event["output_index"]) == event["item"]["id"]
            done.append(event["item"]["id"])
        elif "item_id" in event:
            assert open_items.get(event["output_index"]) == event["item_id"], event
    assert not open_items
    assert [item["id"] for item in events[-1]["response"]["output"]] == done


def sse_get(server: LiveServer, path: str) -> list[tuple[str | None, str]]:
    """The (event name, data) frames of a GET stream."""
    frames: list[tuple[str | None, str]] = []
    event: str | None = None
    with httpx.stream("GET", server.url + path, headers={"authorization": f"Bearer {MASTER_KEY}"},
                      timeout=60) as response:
        assert response.status_code == 200
        for line in response.iter_lines():
            if line.startswith("event:"):
                event = line.partition(":")[2].strip()
            elif line.startswith("data:"):
                frames.append((event, line.partition(":")[2].strip()))
                event = None
    return frames


def text_of(body: dict[str, Any]) -> str:
    return "".join(part["text"] for item in body["output"] if item["type"] == "message"
                   for part in item["content"] if part["type"] == "output_text")


def completed_with_text(body: dict[str, Any]) -> str:
    assert body["status"] == "completed", body
    assert body["output"] and body["output"][-1]["type"] == "message"
    assert body["usage"]["total_tokens"] == body["usage"]["input_tokens"] + body["usage"]["output_tokens"] > 0
    text = text_of(body)
    assert text.strip()
    return text


# -- the embedded model ----------------------------------------------------------------------


@pytest.mark.slow
def test_basic_text_response(oai) -> None:
    body = create(oai, model=LOCAL, input=[user("Say hello in exactly 3 words.")], temperature=0,
                  max_output_tokens=32)
    assert "hello" in completed_with_text(body).lower()
    assert (body["presence_penalty"], body["frequency_penalty"]) == (0.0, 0.0)
    assert body["object"] == "response" and body["id"].startswith("resp_")


@pytest.mark.slow
def test_streaming_response(oai) -> None:
    events = stream(oai, model=LOCAL, input=[user("Count from 1 to 5.")], temperature=0, max_output_tokens=48)
    assert [e["type"] for e in events[:2]] == ["response.created", "response.in_progress"]
    for early in events[:2]:
        assert "usage" in early["response"] and early["response"]["usage"] is None
        assert early["response"]["presence_penalty"] == early["response"]["frequency_penalty"] == 0.0
    final = events[-1]
    assert final["type"] == "response.completed"
    text = completed_with_text(final["response"])
    assert "".join(e["delta"] for e in events if e["type"] == "response.output_text.delta") == text
    assert all(str(n) in text for n in range(1, 6)), text


@pytest.mark.slow
def test_system_prompt(oai) -> None:
    body = create(oai, model=LOCAL, temperature=0, max_output_tokens=48, input=[
        {"type": "message", "role": "system", "content": "You are a pirate. Always respond in pirate speak."},
        user("Say hello.")])
    completed_with_text(body)
    items = oai.responses.input_items.list(body["id"], order="asc").data
    assert [(i.type, i.role) for i in items] == [("message", "system"), ("message", "user")]


@pytest.mark.slow
def test_multi_turn_conversation(oai) -> None:
    body = create(oai, model=LOCAL, temperature=0, max_output_tokens=32, input=[
        user("My name is Alice."),
        {"type": "message", "role": "assistant", "content": "Hello Alice! Nice to meet you. How can I help you today?"},
        user("What is my name?")])
    assert "alice" in completed_with_text(body).lower()


@pytest.mark.slow
def test_assistant_history_with_phase_labels(oai) -> None:
    body = create(oai, model=LOCAL, temperature=0, max_output_tokens=16, input=[
        {"type": "message", "role": "assistant", "phase": "commentary",
         "content": "I should answer with the saved number."},
        {"type": "message", "role": "assistant", "phase": "final_answer", "content": "The number is four."},
        user("Repeat only the number.")])
    text = completed_with_text(body).lower()
    assert "four" in text or "4" in text
    items = oai.responses.input_items.list(body["id"], order="asc").data
    assert [getattr(i, "phase", None) for i in items] == ["commentary", "final_answer", None]


@pytest.mark.slow
def test_tool_calling(oai) -> None:
    body = create(oai, model=LOCAL, temperature=0, max_output_tokens=60, tools=[WEATHER],
                  input=[user("What's the weather like in San Francisco?")])
    call = next(item for item in body["output"] if item["type"] == "function_call")
    assert call["name"] == "get_weather" and call["status"] == "completed" and call["call_id"]
    assert "san francisco" in json.loads(call["arguments"])["location"].lower()


@pytest.mark.slow
def test_tool_calling_streaming(oai) -> None:
    events = stream(oai, model=LOCAL, temperature=0, max_output_tokens=60, tools=[WEATHER],
                    input=[user("What's the weather like in San Francisco?")])
    added = [e for e in events if e["type"] == "response.output_item.added" and e["item"]["type"] == "function_call"]
    done = [e for e in events if e["type"] == "response.output_item.done" and e["item"]["type"] == "function_call"]
    assert len(added) == len(done) == 1
    item_id = done[0]["item"]["id"]
    deltas = [e["delta"] for e in events
              if e["type"] == "response.function_call_arguments.delta" and e["item_id"] == item_id]
    args_done = [e for e in events if e["type"] == "response.function_call_arguments.done"]
    assert deltas and len(args_done) == 1
    assert "".join(deltas) == args_done[0]["arguments"] == done[0]["item"]["arguments"]
    assert json.loads(args_done[0]["arguments"])["location"]


@pytest.mark.slow
def test_an_image_refused_by_the_text_model_names_the_input_field(oai) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        oai.responses.create(model=LOCAL, instructions="Be brief.", input=[
            user("Hi."),
            {"type": "message", "role": "user", "content": [
                {"type": "input_text", "text": "What do you see in this image? Answer in one sentence."},
                {"type": "input_image", "image_url": IMAGE}]}])
    error = caught.value.body
    assert error["param"] == "input[1].content[1]" and error["code"] == "unsupported_parameter"
    assert error["type"] == "invalid_request_error" and "image" in error["message"]


@pytest.mark.slow
def test_penalties_change_what_the_embedded_model_writes(oai) -> None:
    ask = {"model": LOCAL, "input": "Write the word cat twenty times, separated by spaces.", "temperature": 0,
           "max_output_tokens": 40}
    plain = create(oai, **ask)
    penalised = create(oai, **ask, extra_body={"presence_penalty": 2.0, "frequency_penalty": 2.0})
    assert (penalised["presence_penalty"], penalised["frequency_penalty"]) == (2.0, 2.0)
    assert text_of(plain).lower().count("cat") > text_of(penalised).lower().count("cat")


# -- scripted upstreams ----------------------------------------------------------------------


def test_image_input_on_a_vision_upstream(oai, fake_openai) -> None:
    fake_openai.script(ow.completion("A red square."))
    body = create(oai, model=VIA_OPENAI, input=[{"type": "message", "role": "user", "content": [
        {"type": "input_text", "text": "What do you see in this image? Answer in one sentence."},
        {"type": "input_image", "image_url": IMAGE}]}])
    assert completed_with_text(body) == "A red square."
    parts = fake_openai.last.body["messages"][-1]["content"]
    assert [p["type"] for p in parts] == ["text", "image_url"]
    assert parts[1]["image_url"]["url"] == IMAGE


def test_an_image_in_the_history_refused_by_the_text_model_names_previous_response_id(oai, fake_openai) -> None:
    fake_openai.script(ow.completion("A heart."))
    first = oai.responses.create(model=VIA_OPENAI, input=[{"type": "message", "role": "user", "content": [
        {"type": "input_image", "image_url": IMAGE}]}])
    with pytest.raises(openai.BadRequestError) as caught:
        oai.responses.create(model=LOCAL, previous_response_id=first.id, input="What colour was it?")
    assert caught.value.body["param"] == "previous_response_id"


def test_penalties_reach_a_chat_upstream_and_are_echoed(oai, fake_openai) -> None:
    fake_openai.script(ow.completion("ok"), ow.stream(["o", "k"]))
    body = create(oai, model=VIA_OPENAI, input="hi", extra_body={"presence_penalty": 0.5, "frequency_penalty": -1})
    sent = fake_openai.last.body
    assert (sent["presence_penalty"], sent["frequency_penalty"]) == (0.5, -1)
    assert (body["presence_penalty"], body["frequency_penalty"]) == (0.5, -1)
    assert oai.responses.with_raw_response.retrieve(body["id"]).http_response.json()["presence_penalty"] == 0.5
    events = stream(oai, model=VIA_OPENAI, input="hi", extra_body={"presence_penalty": 1.25})
    assert fake_openai.last.body["presence_penalty"] == 1.25
    assert {e["response"]["presence_penalty"] for e in events if "response" in e} == {1.25}


def test_unset_penalties_are_not_sent_upstream(oai, fake_openai) -> None:
    fake_openai.script(ow.completion("ok"))
    create(oai, model=VIA_OPENAI, input="hi")
    sent = fake_openai.last.body
    assert sent.get("presence_penalty") is None and sent.get("frequency_penalty") is None


@pytest.mark.parametrize(("field", "value"), [("presence_penalty", 2.5), ("frequency_penalty", "lots")])
def test_a_bad_penalty_is_a_400_naming_it(oai, field, value) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        oai.responses.create(model=VIA_OPENAI, input="hi", extra_body={field: value})
    assert caught.value.body["param"] == field


def test_a_running_response_read_with_get_has_usage_null(oai, fake_openai) -> None:
    fake_openai.script(ow.stream([f"w{i} " for i in range(10)], delay=0.2))
    raw = oai.responses.with_raw_response.create(model=VIA_OPENAI, input="go", background=True)
    queued = raw.http_response.json()
    assert queued["status"] in ("queued", "in_progress") and queued["usage"] is None
    validate_open_responses(queued, "ResponseResource")
    running = oai.responses.with_raw_response.retrieve(queued["id"]).http_response.json()
    assert running["status"] in ("queued", "in_progress") and "usage" in running and running["usage"] is None
    validate_open_responses(running, "ResponseResource")
    deadline = time.monotonic() + 30
    while running["status"] != "completed" and time.monotonic() < deadline:
        time.sleep(0.1)
        running = oai.responses.with_raw_response.retrieve(queued["id"]).http_response.json()
    validate_open_responses(running, "ResponseResource")
    assert running["status"] == "completed" and running["usage"]["output_tokens"] == 7


def test_background_stream_snapshots_have_usage_null_until_done(oai, fake_openai) -> None:
    fake_openai.script(ow.stream(["a", "b"]))
    events = stream(oai, model=VIA_OPENAI, input="go", background=True)
    assert [e["type"] for e in events[:3]] == ["response.created", "response.queued", "response.in_progress"]
    assert all(e["response"]["usage"] is None for e in events[:3])
    assert events[-1]["response"]["usage"]["total_tokens"] == 18


def test_compact_returns_a_compaction_resource_that_continues_a_new_chain(server, oai, fake_openai) -> None:
    # The SDK types compacted output as output items, but the compaction keeps the user
    # messages (input_text parts, as in OpenAI's spec example): only the default,
    # non-strict SDK client reads it, and Open Responses' CompactResource is the check.
    lenient = openai.OpenAI(base_url=server.url + "/v1", api_key=MASTER_KEY, max_retries=0, timeout=120)
    fake_openai.script(ow.completion("Launch is Tuesday; notify support first."), ow.completion("compacted"))
    raw = lenient.responses.with_raw_response.compact(
        model=VIA_OPENAI, prompt_cache_key="openresponses-compact-test", input=[
            user("We agreed to launch on Tuesday and notify support first."),
            {"type": "message", "role": "assistant",
             "content": "Understood. The launch is Tuesday, with support notified beforehand."}])
    parsed = raw.parse()
    body = raw.http_response.json()
    validate_open_responses(body, "CompactResource")
    assert parsed.object == "response.compaction" and parsed.output[-1].type == "compaction"
    assert body["object"] == "response.compaction" and isinstance(body["id"], str)
    assert isinstance(body["created_at"], int)
    usage = body["usage"]
    validate_open_responses(usage, "Usage")
    compaction = [i for i in body["output"] if i["type"] == "compaction"]
    assert len(compaction) == 1 and isinstance(compaction[0]["encrypted_content"], str) and compaction[0]["id"]
    for item in body["output"]:
        if item["type"] == "message":
            validate_open_responses(item, "Message")
    follow = create(oai, model=VIA_OPENAI, store=False, tools=[],
                    input=[*body["output"], user("Continue from here. Reply with exactly: compacted")])
    assert completed_with_text(follow) == "compacted"
    sent = json.dumps(fake_openai.last.body["messages"])
    assert "Launch is Tuesday; notify support first." in sent


def test_compact_without_a_model_is_a_400_naming_it(oai) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        oai.post("/responses/compact", cast_to=object, body={"input": [user("Compact this conversation.")]})
    assert caught.value.body["param"] == "model"


@pytest.mark.parametrize("background", [False, True])
def test_sse_frames_are_named_by_type_and_end_with_done(server, fake_openai, background) -> None:
    fake_openai.script(ow.stream(["a", "b"]))
    frames = sse(server, "/v1/responses", {"model": VIA_OPENAI, "input": "go", "stream": True,
                                           "background": background})
    assert frames[-1] == (None, "[DONE]")
    events = [json.loads(data) for _, data in frames[:-1]]
    assert [name for name, _ in frames[:-1]] == [e["type"] for e in events]
    assert events[-1]["type"] == "response.completed"
    if background:
        replay = sse_get(server, f"/v1/responses/{events[0]['response']['id']}?stream=true&starting_after=2")
        assert replay[-1] == (None, "[DONE]") and json.loads(replay[0][1])["sequence_number"] == 3
        assert [json.loads(data) for _, data in replay[:-1]] == events[3:]
