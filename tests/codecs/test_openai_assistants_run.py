"""AssistantsRunEncoder: an agent run's events as the Assistants run, its steps and
messages, and the exact ``AssistantStreamEvent`` sequence (checked against the SDK's types)."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from openai.types.beta.assistant_stream_event import AssistantStreamEvent
from pydantic import TypeAdapter

from switchyard.codecs.openai_assistants.run_items import step_items
from switchyard.codecs.openai_assistants.run_objects import latest_container
from switchyard.codecs.openai_assistants.run_stream import AssistantsRunEncoder, StreamEvent
from switchyard.core.errors import ErrorKind, SwitchyardError
from switchyard.core.events import (
    ArgumentsDelta,
    BlockStart,
    BlockStop,
    Finish,
    ItemDone,
    ItemStart,
    RefusalDelta,
    Start,
    TextDelta,
    UsageReport,
)
from switchyard.core.run_events import RunEvent, RunFinished, RunStarted, RunStatus
from switchyard.core.tool_items import (
    CodeFile,
    CodeImage,
    CodeInterpreterCall,
    CodeLogs,
    FileSearchCall,
    FileSearchResult,
)
from switchyard.core.usage import Usage
from tests.sdk_schema import assert_valid
from tests.spec_assistants_runs import SHAPES

EVENT = TypeAdapter(AssistantStreamEvent)
TURN = Usage(input_tokens=10, output_tokens=4)


def run_body() -> dict[str, Any]:
    return {"id": "run_1", "object": "thread.run", "created_at": 1, "assistant_id": "asst_1", "thread_id": "thread_1",
            "status": "queued", "started_at": None, "expires_at": None, "cancelled_at": None, "failed_at": None,
            "completed_at": None, "required_action": None, "last_error": None, "model": "m", "instructions": "",
            "tools": [], "metadata": {}, "incomplete_details": None, "usage": None, "temperature": 1.0, "top_p": 1.0,
            "max_prompt_tokens": None, "max_completion_tokens": None,
            "truncation_strategy": {"type": "auto", "last_messages": None}, "response_format": "auto",
            "tool_choice": "auto", "parallel_tool_calls": True}


def encoder(**kw: Any) -> AssistantsRunEncoder:
    counter = itertools.count(1)
    return AssistantsRunEncoder(run_body(), new_id=lambda prefix: f"{prefix}{next(counter)}", now=lambda: 50, **kw)


def feed(enc: AssistantsRunEncoder, events: list[RunEvent]) -> list[StreamEvent]:
    out = [wire for event in events for wire in enc.feed(event)]
    for name, data in out:
        EVENT.validate_python({"event": name, "data": data})
        shape = SHAPES.get(data.get("object", ""))
        if shape is not None:
            assert_valid(shape, data, f"{name} {data['object']}")
    return out


def names(out: list[StreamEvent]) -> list[str]:
    return [name for name, _ in out]


def text_turn(*chunks: str, reason: str = "stop") -> list[RunEvent]:
    """Usage after ``Finish``, as an OpenAI Chat upstream reports it."""
    return [Start(), BlockStart(0, "text"), *(TextDelta(0, c) for c in chunks), BlockStop(0),
            Finish(reason), UsageReport(TURN)]  # type: ignore[arg-type]


def call_turn() -> list[RunEvent]:
    return [Start(), BlockStart(0, "tool_call", call_id="call_a", name="get_weather"), ArgumentsDelta(0, '{"city":'),
            ArgumentsDelta(0, '"Oslo"}'), BlockStop(0), UsageReport(TURN), Finish("tool_calls")]


def done(status: RunStatus, **kw: Any) -> RunFinished:
    return RunFinished(status, kw.pop("usage", TURN), 99, **kw)


MESSAGE = ["thread.run.step.created", "thread.run.step.in_progress", "thread.message.created",
           "thread.message.in_progress"]
UPSTREAM_DOWN = SwitchyardError(ErrorKind.UPSTREAM, "upstream down")

SEQUENCES = [
    pytest.param([RunStarted(), *text_turn("Hel", "lo"), done("completed")],
                 ["thread.run.in_progress", *MESSAGE, "thread.message.delta", "thread.message.delta",
                  "thread.message.completed", "thread.run.step.completed", "thread.run.completed"],
                 "completed", id="answer"),
    pytest.param([RunStarted(), *call_turn(), done("completed")],
                 ["thread.run.in_progress", "thread.run.step.created", "thread.run.step.in_progress",
                  "thread.run.step.delta", "thread.run.step.delta", "thread.run.step.delta",
                  "thread.run.requires_action"], "requires_action", id="function-call-waits"),
    pytest.param([RunStarted(), *text_turn("cut", reason="length"), done("incomplete",
                                                                          incomplete_reason="max_output_tokens")],
                 ["thread.run.in_progress", *MESSAGE, "thread.message.delta", "thread.message.incomplete",
                  "thread.run.step.completed", "thread.run.incomplete"], "incomplete", id="token-limit"),
    pytest.param([RunStarted(), Start(), BlockStart(0, "text"), TextDelta(0, "par"),
                  done("failed", error=UPSTREAM_DOWN)],
                 ["thread.run.in_progress", *MESSAGE, "thread.message.delta", "thread.message.incomplete",
                  "thread.run.step.failed", "thread.run.failed"], "failed", id="failed-closes-open"),
    pytest.param([RunStarted(), Start(), BlockStart(0, "text"), TextDelta(0, "par"), done("cancelled")],
                 ["thread.run.in_progress", *MESSAGE, "thread.message.delta", "thread.message.incomplete",
                  "thread.run.step.cancelled", "thread.run.cancelled"], "cancelled", id="cancelled"),
    pytest.param([done("cancelled", usage=Usage())], ["thread.run.cancelled"], "cancelled",
                 id="cancelled-before-start"),
    pytest.param([RunStarted(), Start(), BlockStart(0, "refusal"), RefusalDelta(0, "no"), BlockStop(0), Finish("stop"),
                  done("completed")],
                 ["thread.run.in_progress", *MESSAGE, "thread.message.delta", "thread.message.completed",
                  "thread.run.step.completed", "thread.run.completed"], "completed", id="refusal"),
]


@pytest.mark.parametrize(("events", "expected", "status"), SEQUENCES)
def test_event_sequences(events: list[RunEvent], expected: list[str], status: str) -> None:
    enc = encoder()
    out = feed(enc, events)
    assert names(out) == expected
    assert out[-1][1]["status"] == status
    assert enc.run["status"] == status


def test_created_sequence_with_thread() -> None:
    thread = {"id": "thread_1", "object": "thread.created", "created_at": 1, "metadata": {}, "tool_resources": None}
    out = encoder().created({**thread, "object": "thread"})
    for name, data in out:
        EVENT.validate_python({"event": name, "data": data})
    assert names(out) == ["thread.created", "thread.run.created", "thread.run.queued"]
    assert [d["status"] for _, d in out[1:]] == ["queued", "queued"]


def test_answer_objects_and_usage() -> None:
    enc = encoder(prior=Usage(input_tokens=5, output_tokens=1))
    out = feed(enc, [RunStarted(), *text_turn("Hel", "lo"), done("completed")])
    (message,) = enc.messages.values()
    assert message["content"] == [{"type": "text", "text": {"value": "Hello", "annotations": []}}]
    assert message["status"] == "completed" and message["run_id"] == "run_1" and message["role"] == "assistant"
    (step,) = enc.steps.values()
    assert step["type"] == "message_creation"
    assert step["step_details"]["message_creation"]["message_id"] == message["id"]
    assert step["usage"] == {"prompt_tokens": 10, "completion_tokens": 4, "total_tokens": 14}
    created = dict(out)["thread.message.created"]
    assert created["content"] == [] and created["status"] == "in_progress"
    assert enc.run["usage"] == {"prompt_tokens": 15, "completion_tokens": 5, "total_tokens": 20}
    assert enc.run["completed_at"] == 99 and enc.run["started_at"] == 50


def test_requires_action_then_resumed() -> None:
    enc = encoder()
    out = feed(enc, [RunStarted(), *call_turn(), done("completed")])
    run = out[-1][1]
    assert run["required_action"] == {"type": "submit_tool_outputs", "submit_tool_outputs": {"tool_calls": [
        {"id": "call_a", "type": "function", "function": {"name": "get_weather", "arguments": '{"city":"Oslo"}'}}]}}
    assert run["expires_at"] == 99 + 600 and run["usage"] is None
    (step,) = enc.steps.values()
    assert step["status"] == "in_progress" and step["usage"]["total_tokens"] == 14
    deltas = [d["delta"]["step_details"]["tool_calls"][0] for n, d in out if n == "thread.run.step.delta"]
    assert deltas[0] == {"index": 0, "id": "call_a", "type": "function",
                         "function": {"name": "get_weather", "arguments": "", "output": None}}
    assert deltas[1] == {"index": 0, "type": "function", "function": {"arguments": '{"city":'}}

    nxt = AssistantsRunEncoder(enc.run, new_id=lambda p: p + "x", now=lambda: 60, prior=enc.total_usage,
                               waiting_step=step)
    resumed = nxt.resumed({"call_a": "12C"})
    assert names(resumed) == ["thread.run.step.completed", "thread.run.queued"]
    assert resumed[0][1]["step_details"]["tool_calls"][0]["function"]["output"] == "12C"
    assert resumed[1][1]["required_action"] is None
    out2 = feed(nxt, [RunStarted(), *text_turn("12C in Oslo"), done("completed")])
    assert names(out2)[-1] == "thread.run.completed"
    assert out2[-1][1]["usage"]["total_tokens"] == 28


@pytest.mark.parametrize("status", ["cancelled", "failed"])
def test_a_waiting_step_ends_with_its_run(status: RunStatus) -> None:
    enc = encoder()
    feed(enc, [RunStarted(), *call_turn(), done("completed")])
    (step,) = enc.steps.values()
    later = AssistantsRunEncoder(enc.run, new_id=str, now=lambda: 70, prior=enc.total_usage, waiting_step=step)
    out = feed(later, [done(status, usage=Usage(), error=UPSTREAM_DOWN if status == "failed" else None)])
    assert names(out) == [f"thread.run.step.{status}", f"thread.run.{status}"]
    assert out[0][1]["usage"]["total_tokens"] == 14  # the turn that made the calls
    assert out[1][1]["required_action"] is None


def test_expired() -> None:
    enc = encoder()
    feed(enc, [RunStarted(), *call_turn(), done("completed")])
    (step,) = enc.steps.values()
    late = AssistantsRunEncoder(enc.run, new_id=str, now=lambda: 800, prior=enc.total_usage, waiting_step=step)
    out = late.expired()
    assert names(out) == ["thread.run.step.expired", "thread.run.expired"]
    assert out[0][1]["expired_at"] == 800 and out[1][1]["status"] == "expired"


SEARCH = FileSearchCall(id="fs_1", queries=["q"], results=[
    FileSearchResult(file_id="file-a", filename="a.txt", score=0.9, text="alpha"),
    FileSearchResult(file_id="file-b", filename="b.txt", score=0.5, text="beta")])


@pytest.mark.parametrize("include", [False, True])
def test_file_search_step_and_citations(include: bool) -> None:
    enc = encoder(search_content=include)
    begun = FileSearchCall(id="fs_1", queries=["q"], results=None, status="in_progress")
    out = feed(enc, [RunStarted(), Start(), UsageReport(TURN), Finish("tool_calls"), ItemStart(begun),
                     ItemDone(SEARCH), *text_turn("Alpha."), done("completed")])
    assert names(out) == ["thread.run.in_progress", "thread.run.step.created", "thread.run.step.in_progress",
                          "thread.run.step.delta", "thread.run.step.delta", "thread.run.step.completed", *MESSAGE,
                          "thread.message.delta",
                          "thread.message.delta", "thread.message.completed", "thread.run.step.completed",
                          "thread.run.completed"]
    tool_step = next(d for n, d in out if n == "thread.run.step.completed")
    (call,) = tool_step["step_details"]["tool_calls"]
    results = call["file_search"]["results"]
    assert [r["file_name"] for r in results] == ["a.txt", "b.txt"]
    found = [d["delta"]["step_details"]["tool_calls"][0] for n, d in out if n == "thread.run.step.delta"][1]
    assert found["file_search"]["results"] == results  # a stream's snapshot gets them from the delta
    assert ("content" in results[0]) is include
    assert tool_step["usage"]["total_tokens"] == 14  # the turn that asked for the search
    (message,) = enc.messages.values()
    text = message["content"][0]["text"]
    assert text["value"] == "Alpha.【0†a.txt】【1†b.txt】"
    first = text["annotations"][0]
    assert first["file_citation"] == {"file_id": "file-a"}
    assert text["value"][first["start_index"]:first["end_index"]] == first["text"] == "【0†a.txt】"
    stored = next(s for s in enc.steps.values() if s["type"] == "tool_calls")
    assert stored["step_details"]["tool_calls"][0]["file_search"]["results"][0]["content"] == [
        {"type": "text", "text": "alpha"}]


def test_code_interpreter_step() -> None:
    enc = encoder()
    begun = CodeInterpreterCall(id="ci_1", code="print(1)", outputs=None, status="in_progress")
    ran = CodeInterpreterCall(id="ci_1", code="print(1)", outputs=[CodeLogs("1\n")])
    out = feed(enc, [RunStarted(), Start(), Finish("tool_calls"), ItemStart(begun), ItemDone(ran),
                     done("completed")])
    deltas = [d["delta"]["step_details"]["tool_calls"][0] for n, d in out if n == "thread.run.step.delta"]
    assert deltas[0]["code_interpreter"] == {"input": "print(1)", "outputs": []}
    assert deltas[1]["code_interpreter"]["outputs"] == [{"index": 0, "type": "logs", "logs": "1\n"}]
    final = dict(out)["thread.run.step.completed"]["step_details"]["tool_calls"][0]
    assert final["code_interpreter"] == {"input": "print(1)", "outputs": [{"type": "logs", "logs": "1\n"}]}


def test_code_container_is_stored_not_shown() -> None:
    enc = encoder()
    ran = CodeInterpreterCall(id="ci_1", code="x = 1", container_id="cntr_1", outputs=[
        CodeLogs(""), CodeImage("data:image/png;base64,AAAA"), CodeImage("file-img")])
    out = feed(enc, [RunStarted(), Start(), Finish("tool_calls"), ItemStart(ran), ItemDone(ran), done("completed")])
    assert all("_container_id" not in str(data) for _, data in out)
    (step,) = enc.steps.values()
    (call,) = step["step_details"]["tool_calls"]
    assert call["_container_id"] == "cntr_1"
    assert call["code_interpreter"]["outputs"] == [{"type": "logs", "logs": ""},
                                                   {"type": "image", "image": {"file_id": "file-img"}}]
    assert latest_container([step]) == "cntr_1"
    (item,) = step_items([step], {})
    assert isinstance(item, CodeInterpreterCall) and item.container_id == "cntr_1" and item.code == "x = 1"


def test_images_the_code_drew_open_the_next_message() -> None:
    enc = encoder()
    ran = CodeInterpreterCall(id="ci_1", code="plot()", outputs=[CodeImage("file-img")])
    out = feed(enc, [RunStarted(), Start(), Finish("tool_calls"), ItemStart(ran), ItemDone(ran),
                     *text_turn("A plot."), done("completed")])
    (message,) = enc.messages.values()
    assert message["content"] == [{"type": "image_file", "image_file": {"file_id": "file-img"}},
                                  {"type": "text", "text": {"value": "A plot.", "annotations": []}}]
    deltas = [d["delta"]["content"][0] for n, d in out if n == "thread.message.delta"]
    assert deltas == [{"index": 0, "type": "image_file", "image_file": {"file_id": "file-img"}},
                      {"index": 1, "type": "text", "text": {"value": "A plot.", "annotations": []}}]


def test_failed_run_names_error() -> None:
    enc = encoder()
    out = feed(enc, [RunStarted(), done("failed", error=SwitchyardError(ErrorKind.RATE_LIMIT, "slow down"))])
    assert out[-1][1]["last_error"] == {"code": "rate_limit_exceeded", "message": "slow down"}
    assert out[-1][1]["failed_at"] == 99


def test_cancelling_and_error_event() -> None:
    enc = encoder()
    (name, data), = enc.cancelling()
    assert name == "thread.run.cancelling" and data["status"] == "cancelling"
    name, data = AssistantsRunEncoder.error(SwitchyardError(ErrorKind.SERVER, "boom"))
    EVENT.validate_python({"event": name, "data": data})
    assert data["message"] == "boom"


@pytest.mark.parametrize("answer", ["Saved.", "See sandbox:/mnt/data/out.csv for it."])
def test_files_the_code_wrote_are_linked_with_file_path(answer: str) -> None:
    enc = encoder()
    ran = CodeInterpreterCall(id="ci_1", code="save()", outputs=[], files=[CodeFile("file-out", "cntr_1", "out.csv")])
    out = feed(enc, [RunStarted(), Start(), Finish("tool_calls"), ItemStart(ran), ItemDone(ran),
                     *text_turn(answer), done("completed")])
    (message,) = enc.messages.values()
    text = message["content"][0]["text"]
    (link,) = text["annotations"]
    assert link["type"] == "file_path" and link["file_path"] == {"file_id": "file-out"}
    assert text["value"][link["start_index"]:link["end_index"]] == link["text"] == "sandbox:/mnt/data/out.csv"
    if "sandbox:" not in answer:
        assert text["value"] == "Saved.\n[out.csv](sandbox:/mnt/data/out.csv)"
    else:
        assert text["value"] == answer
    last = [d for n, d in out if n == "thread.message.delta"][-1]["delta"]["content"][0]["text"]
    assert last["annotations"][0]["index"] == 0
