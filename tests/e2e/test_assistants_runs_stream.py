"""Streamed Assistants runs through the official SDK: ``runs.stream()`` with an
``AssistantEventHandler``, ``stream=True`` on create, create-and-run and
``submit_tool_outputs``, and the exact event sequence on the wire."""

from __future__ import annotations

import json
from typing import Any

import httpx
import openai
import pytest
from openai import AssistantEventHandler
from openai.types.beta.threads import Message, Text, TextDelta
from openai.types.beta.threads.runs import RunStep, ToolCall, ToolCallDelta

from tests.e2e.runs_support import WEATHER, assistant, client, runs_server, texts, thread_with, wait_run
from tests.fakes import openai_wire as ow
from tests.fakes.upstream import FakeUpstream
from tests.sdk_schema import assert_valid
from tests.server import MASTER_KEY, LiveServer
from tests.spec_assistants_runs import SHAPES

__all__ = ["client", "runs_server"]  # fixtures
pytestmark = pytest.mark.filterwarnings("ignore:.*Assistants API is deprecated:DeprecationWarning",
                                        "ignore:deprecated:DeprecationWarning")

ANSWER = ["thread.run.step.created", "thread.run.step.in_progress", "thread.message.created",
          "thread.message.in_progress"]


class Recorder(AssistantEventHandler):
    def __init__(self) -> None:
        super().__init__()
        self.names: list[str] = []
        self.deltas: list[str] = []
        self.done_texts: list[str] = []
        self.tool_calls: list[ToolCall] = []
        self.steps: list[RunStep] = []
        self.messages: list[Message] = []

    def on_event(self, event: Any) -> None:
        self.names.append(event.event)

    def on_text_delta(self, delta: TextDelta, snapshot: Text) -> None:
        self.deltas.append(delta.value or "")

    def on_text_done(self, text: Text) -> None:
        self.done_texts.append(text.value)

    def on_tool_call_done(self, tool_call: ToolCall) -> None:
        self.tool_calls.append(tool_call)

    def on_tool_call_delta(self, delta: ToolCallDelta, snapshot: ToolCall) -> None:
        pass

    def on_run_step_done(self, run_step: RunStep) -> None:
        self.steps.append(run_step)

    def on_message_done(self, message: Message) -> None:
        self.messages.append(message)


def test_stream_with_an_event_handler(client: openai.OpenAI, fake_openai: FakeUpstream) -> None:
    fake_openai.script(ow.stream(["Hel", "lo", " there"]))
    asst = assistant(client)
    thread = thread_with(client)
    handler = Recorder()
    with client.beta.threads.runs.stream(thread_id=thread.id, assistant_id=asst.id, event_handler=handler) as stream:
        stream.until_done()
        final = stream.get_final_run()
        (message,) = stream.get_final_messages()
    assert handler.names == ["thread.run.created", "thread.run.queued", "thread.run.in_progress", *ANSWER,
                             "thread.message.delta", "thread.message.delta", "thread.message.delta",
                             "thread.message.completed", "thread.run.step.completed", "thread.run.completed"]
    assert handler.deltas == ["Hel", "lo", " there"] and handler.done_texts == ["Hello there"]
    assert final.status == "completed" and final.usage is not None and final.usage.total_tokens == 18
    assert message.content[0].type == "text" and message.content[0].text.value == "Hello there"
    assert [s.type for s in handler.steps] == ["message_creation"]
    stored = client.beta.threads.runs.retrieve(final.id, thread_id=thread.id)
    assert stored.status == "completed" and stored.usage == final.usage
    assert texts(client, thread.id)[-1] == ("assistant", "Hello there")


def test_stream_function_call_then_submit_outputs_stream(client: openai.OpenAI, fake_openai: FakeUpstream) -> None:
    fake_openai.script(ow.stream([], tool_calls=[("call_s1", "get_weather", ['{"city"', ':"Rome"}'])]),
                       ow.stream(["Sunny."]))
    asst = assistant(client, tools=[WEATHER])
    thread = thread_with(client, "Rome?")
    handler = Recorder()
    with client.beta.threads.runs.stream(thread_id=thread.id, assistant_id=asst.id, event_handler=handler) as stream:
        stream.until_done()
        run = stream.current_run
    assert run is not None and run.status == "requires_action"
    assert handler.names == ["thread.run.created", "thread.run.queued", "thread.run.in_progress",
                             "thread.run.step.created", "thread.run.step.in_progress", "thread.run.step.delta",
                             "thread.run.step.delta", "thread.run.step.delta", "thread.run.requires_action"]
    (call,) = handler.tool_calls
    assert call.type == "function" and call.function.name == "get_weather"
    assert call.function.arguments == '{"city":"Rome"}'

    after = Recorder()
    with client.beta.threads.runs.submit_tool_outputs_stream(
            thread_id=thread.id, run_id=run.id, tool_outputs=[{"tool_call_id": "call_s1", "output": "25C"}],
            event_handler=after) as stream:
        stream.until_done()
        final = stream.get_final_run()
    assert after.names == ["thread.run.step.completed", "thread.run.queued", "thread.run.in_progress", *ANSWER,
                           "thread.message.delta", "thread.message.completed", "thread.run.step.completed",
                           "thread.run.completed"]
    assert after.steps[0].step_details.type == "tool_calls"
    assert after.steps[0].step_details.tool_calls[0].function.output == "25C"  # type: ignore[union-attr]
    assert final.status == "completed" and after.done_texts == ["Sunny."]


def test_create_and_run_stream_starts_with_the_thread(client: openai.OpenAI, fake_openai: FakeUpstream) -> None:
    fake_openai.script(ow.stream(["new thread answer"]))
    asst = assistant(client)
    events = list(client.beta.threads.create_and_run(
        assistant_id=asst.id, stream=True, thread={"messages": [{"role": "user", "content": "start"}]}))
    names = [e.event for e in events]
    assert names[:4] == ["thread.created", "thread.run.created", "thread.run.queued", "thread.run.in_progress"]
    assert names[-1] == "thread.run.completed"
    thread_id = events[0].data.id
    assert texts(client, thread_id) == [("user", "start"), ("assistant", "new thread answer")]


def test_create_and_run_and_poll(client: openai.OpenAI, fake_openai: FakeUpstream) -> None:
    fake_openai.script(ow.stream(["polled"]))
    asst = assistant(client)
    run = client.beta.threads.create_and_run_poll(assistant_id=asst.id,
                                                  thread={"messages": [{"role": "user", "content": "go"}]})
    assert run.status == "completed"
    assert texts(client, run.thread_id)[-1] == ("assistant", "polled")


def test_raw_stream_ends_with_done(runs_server: LiveServer, client: openai.OpenAI,
                                   fake_openai: FakeUpstream) -> None:
    fake_openai.script(ow.stream(["raw"]))
    asst = assistant(client)
    thread = thread_with(client)
    with httpx.stream("POST", f"{runs_server.url}/v1/threads/{thread.id}/runs", timeout=30,
                      headers={"authorization": f"Bearer {MASTER_KEY}", "openai-beta": "assistants=v2"},
                      json={"assistant_id": asst.id, "stream": True}) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        body = response.read().decode()
    frames = [f for f in body.split("\n\n") if f.strip() and not f.startswith(":")]
    assert frames[0].startswith("event: thread.run.created\ndata: {")
    assert frames[-1] == "event: done\ndata: [DONE]"
    assert frames[-2].startswith("event: thread.run.completed\n")
    for frame in frames[:-1]:
        name, data = frame.split("\n", 1)
        obj = json.loads(data.removeprefix("data: "))
        shape = SHAPES.get(obj.get("object", ""))
        if shape is not None:
            assert_valid(shape, obj, name)
    stored = httpx.get(f"{runs_server.url}/v1/threads/{thread.id}/runs", headers={
        "authorization": f"Bearer {MASTER_KEY}"}).json()["data"][0]
    assert_valid(SHAPES["thread.run"], stored, "a listed run")


def test_stream_error_before_start_is_an_http_error(client: openai.OpenAI) -> None:
    thread = thread_with(client)
    with pytest.raises(openai.NotFoundError):
        client.beta.threads.runs.create(thread_id=thread.id, assistant_id="asst_missing", stream=True)


def test_failed_streamed_run_ends_with_thread_run_failed(client: openai.OpenAI, fake_openai: FakeUpstream) -> None:
    fake_openai.script(ow.error(500, "upstream broke", "server_error"))
    asst = assistant(client)
    thread = thread_with(client)
    events = list(client.beta.threads.runs.create(thread_id=thread.id, assistant_id=asst.id, stream=True))
    assert [e.event for e in events] == ["thread.run.created", "thread.run.queued", "thread.run.in_progress",
                                         "thread.run.failed"]
    failed = events[-1].data
    assert failed.status == "failed" and failed.last_error is not None  # type: ignore[union-attr]


def test_a_client_that_leaves_does_not_stop_the_run(client: openai.OpenAI, fake_openai: FakeUpstream) -> None:
    fake_openai.script(ow.stream([f"w{n} " for n in range(20)], delay=0.05))
    asst = assistant(client)
    thread = thread_with(client)
    stream = client.beta.threads.runs.create(thread_id=thread.id, assistant_id=asst.id, stream=True)
    seen = []
    for event in stream:
        seen.append(event)
        if event.event == "thread.message.delta":
            break
    stream.close()
    run_id = seen[0].data.id
    done = wait_run(client, thread.id, run_id, {"completed"})
    assert done.usage is not None
    assert texts(client, thread.id)[-1] == ("assistant", "".join(f"w{n} " for n in range(20)))
