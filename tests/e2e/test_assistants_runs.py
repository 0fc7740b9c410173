"""Assistants runs through the official SDK on a scripted upstream: create_and_poll, the
function-call lifecycle (requires_action → submit → completed), every override reaching
the model, token limits, failures, expiry, cancel, pagination, tenancy and bad input."""

from __future__ import annotations

import json
import time

import openai
import pytest

from tests.conftest import VIA_ANTHROPIC, VIA_OPENAI
from tests.e2e.runs_support import (
    ACTION_SECONDS,
    WEATHER,
    assistant,
    client,
    other_client,
    runs_server,
    texts,
    thread_with,
    wait_run,
)
from tests.fakes import anthropic_wire as aw
from tests.fakes import openai_wire as ow
from tests.fakes.upstream import FakeUpstream

__all__ = ["client", "other_client", "runs_server"]  # fixtures
pytestmark = pytest.mark.filterwarnings("ignore:.*Assistants API is deprecated:DeprecationWarning",
                                        "ignore:deprecated:DeprecationWarning")


def test_create_and_poll_answers_and_records_steps(client: openai.OpenAI, fake_openai: FakeUpstream) -> None:
    fake_openai.script(ow.stream(["Hel", "lo"], use=ow.usage(prompt=12, completion=3)))
    asst = assistant(client)
    thread = thread_with(client, "Say hello")
    run = client.beta.threads.runs.create_and_poll(thread_id=thread.id, assistant_id=asst.id)
    assert run.status == "completed" and run.completed_at is not None and run.started_at is not None
    assert run.usage is not None and run.usage.prompt_tokens == 12 and run.usage.completion_tokens == 3
    assert run.instructions == "Be brief." and run.model == VIA_OPENAI and run.tools == []
    assert texts(client, thread.id) == [("user", "Say hello"), ("assistant", "Hello")]
    sent = fake_openai.last.body
    assert sent["messages"][0] == {"role": "system", "content": "Be brief."} or \
        sent["messages"][0]["content"] == "Be brief."
    assert sent["messages"][-1]["content"] in ("Say hello", [{"type": "text", "text": "Say hello"}])
    steps = client.beta.threads.runs.steps.list(run.id, thread_id=thread.id)
    (step,) = steps.data
    assert step.type == "message_creation" and step.status == "completed"
    assert step.usage is not None and step.usage.total_tokens == 15
    (message,) = client.beta.threads.messages.list(thread.id, run_id=run.id).data
    assert step.step_details.type == "message_creation"
    assert step.step_details.message_creation.message_id == message.id
    assert message.assistant_id == asst.id and message.status == "completed"
    again = client.beta.threads.runs.steps.retrieve(step.id, thread_id=thread.id, run_id=run.id)
    assert again.id == step.id


def test_function_call_requires_action_then_submit_completes(client: openai.OpenAI,
                                                             fake_openai: FakeUpstream) -> None:
    fake_openai.script(ow.stream([], tool_calls=[("call_w1", "get_weather", ['{"city":', '"Oslo"}'])]),
                       ow.stream(["It is 12C in Oslo."]))
    asst = assistant(client, tools=[WEATHER])
    thread = thread_with(client, "Weather in Oslo?")
    run = client.beta.threads.runs.create_and_poll(thread_id=thread.id, assistant_id=asst.id)
    assert run.status == "requires_action"
    assert run.expires_at is not None and run.expires_at > time.time()
    assert run.required_action is not None
    (call,) = run.required_action.submit_tool_outputs.tool_calls
    assert call.id == "call_w1" and call.function.name == "get_weather" and call.function.arguments == '{"city":"Oslo"}'
    waiting = client.beta.threads.runs.steps.list(run.id, thread_id=thread.id).data
    assert [(s.type, s.status) for s in waiting] == [("tool_calls", "in_progress")]
    done = client.beta.threads.runs.submit_tool_outputs_and_poll(
        run_id=run.id, thread_id=thread.id, tool_outputs=[{"tool_call_id": "call_w1", "output": "12C"}])
    assert done.status == "completed" and done.required_action is None
    assert done.usage is not None and done.usage.total_tokens == 36  # two turns of 11 + 7
    second = fake_openai.last.body["messages"]
    assert second[-2]["tool_calls"][0]["id"] == "call_w1"
    assert second[-1] == {"role": "tool", "tool_call_id": "call_w1", "content": "12C"}
    steps = client.beta.threads.runs.steps.list(run.id, thread_id=thread.id, order="asc").data
    assert [(s.type, s.status) for s in steps] == [("tool_calls", "completed"), ("message_creation", "completed")]
    assert steps[0].step_details.type == "tool_calls"
    assert steps[0].step_details.tool_calls[0].function.output == "12C"
    assert texts(client, thread.id)[-1] == ("assistant", "It is 12C in Oslo.")


def test_overrides_reach_the_model(client: openai.OpenAI, fake_openai: FakeUpstream) -> None:
    fake_openai.script(ow.stream(['{"ok": true}']))
    asst = assistant(client, tools=[WEATHER])
    thread = thread_with(client, "first")
    run = client.beta.threads.runs.create_and_poll(
        thread_id=thread.id, assistant_id=asst.id, model="gpt-alias-7", instructions="Override.",
        additional_instructions="Also this.", additional_messages=[{"role": "user", "content": "second"}],
        temperature=0.25, top_p=0.5, max_completion_tokens=300, max_prompt_tokens=2000,
        response_format={"type": "json_object"}, tool_choice="none", parallel_tool_calls=False,
        truncation_strategy={"type": "last_messages", "last_messages": 1}, metadata={"k": "v"},
        extra_body={"reasoning_effort": "low"})
    assert run.status == "completed"
    assert run.model == "gpt-alias-7" and run.instructions == "Override.\n\nAlso this."
    assert run.temperature == 0.25 and run.top_p == 0.5 and run.max_completion_tokens == 300
    assert run.max_prompt_tokens == 2000 and run.metadata == {"k": "v"} and run.parallel_tool_calls is False
    assert run.truncation_strategy is not None and run.truncation_strategy.last_messages == 1
    sent = fake_openai.last.body
    assert sent["temperature"] == 0.25 and sent["top_p"] == 0.5 and sent["reasoning_effort"] == "low"
    assert sent.get("max_completion_tokens", sent.get("max_tokens")) == 300
    assert sent["response_format"] == {"type": "json_object"}
    assert sent.get("tool_choice") in ("none", None)
    contents = [m["content"] for m in sent["messages"]]
    assert "Override.\n\nAlso this." in str(contents[0])
    assert "second" in str(contents[-1]) and all("first" not in str(c) for c in contents)  # last_messages: 1
    (added,) = [m for m in client.beta.threads.messages.list(thread.id).data if m.run_id == run.id
                and m.role == "user"]
    assert added.content[0].type == "text" and added.content[0].text.value == "second"


def test_output_limit_makes_the_run_incomplete(client: openai.OpenAI, fake_openai: FakeUpstream) -> None:
    fake_openai.script(ow.stream(["cut sh"], finish_reason="length"))
    asst = assistant(client)
    thread = thread_with(client)
    run = client.beta.threads.runs.create_and_poll(thread_id=thread.id, assistant_id=asst.id,
                                                   max_completion_tokens=256)
    assert run.status == "incomplete"
    assert run.incomplete_details is not None and run.incomplete_details.reason == "max_completion_tokens"
    (message,) = client.beta.threads.messages.list(thread.id, run_id=run.id).data
    assert message.status == "incomplete" and message.incomplete_details is not None


def test_upstream_failure_fails_the_run_with_last_error(client: openai.OpenAI, fake_openai: FakeUpstream) -> None:
    fake_openai.script(ow.error(400, "context too long"))
    asst = assistant(client)
    thread = thread_with(client)
    run = client.beta.threads.runs.create_and_poll(thread_id=thread.id, assistant_id=asst.id)
    assert run.status == "failed" and run.failed_at is not None
    assert run.last_error is not None and "context too long" in run.last_error.message
    assert run.last_error.code == "invalid_prompt"


def test_unanswered_tool_call_expires(client: openai.OpenAI, fake_openai: FakeUpstream) -> None:
    fake_openai.script(ow.stream([], tool_calls=[("call_x", "get_weather", ["{}"])]))
    asst = assistant(client, tools=[WEATHER])
    thread = thread_with(client)
    run = client.beta.threads.runs.create_and_poll(thread_id=thread.id, assistant_id=asst.id)
    assert run.status == "requires_action"
    assert run.expires_at is not None and ACTION_SECONDS <= run.expires_at - run.created_at <= ACTION_SECONDS + 10
    expired = wait_run(client, thread.id, run.id, {"expired"}, timeout=ACTION_SECONDS + 10)
    assert expired.required_action is None
    (step,) = client.beta.threads.runs.steps.list(run.id, thread_id=thread.id).data
    assert step.status == "expired" and step.expired_at is not None
    with pytest.raises(openai.BadRequestError):
        client.beta.threads.runs.submit_tool_outputs(run.id, thread_id=thread.id,
                                                     tool_outputs=[{"tool_call_id": "call_x", "output": "late"}])


def test_cancel_a_running_run(client: openai.OpenAI, fake_openai: FakeUpstream) -> None:
    slow = ow.stream(["never ", "finishes"])
    slow.stall = (2, 20)
    fake_openai.script(slow)
    asst = assistant(client)
    thread = thread_with(client)
    run = client.beta.threads.runs.create(thread_id=thread.id, assistant_id=asst.id)
    assert run.status == "queued"
    wait_run(client, thread.id, run.id, {"in_progress"})
    cancelling = client.beta.threads.runs.cancel(run.id, thread_id=thread.id)
    assert cancelling.status in ("cancelling", "cancelled")
    cancelled = wait_run(client, thread.id, run.id, {"cancelled"})
    assert cancelled.cancelled_at is not None
    with pytest.raises(openai.BadRequestError):
        client.beta.threads.runs.cancel(run.id, thread_id=thread.id)


def test_cancel_a_run_waiting_for_outputs(client: openai.OpenAI, fake_openai: FakeUpstream) -> None:
    fake_openai.script(ow.stream([], tool_calls=[("call_c", "get_weather", ["{}"])]))
    asst = assistant(client, tools=[WEATHER])
    thread = thread_with(client)
    run = client.beta.threads.runs.create_and_poll(thread_id=thread.id, assistant_id=asst.id)
    assert run.status == "requires_action"
    cancelled = client.beta.threads.runs.cancel(run.id, thread_id=thread.id)
    assert cancelled.status == "cancelled"
    (step,) = client.beta.threads.runs.steps.list(run.id, thread_id=thread.id).data
    assert step.status == "cancelled"


def test_one_active_run_per_thread(client: openai.OpenAI, fake_openai: FakeUpstream) -> None:
    fake_openai.script(ow.stream([], tool_calls=[("call_d", "get_weather", ["{}"])]))
    asst = assistant(client, tools=[WEATHER])
    thread = thread_with(client)
    run = client.beta.threads.runs.create_and_poll(thread_id=thread.id, assistant_id=asst.id)
    with pytest.raises(openai.BadRequestError) as refused:
        client.beta.threads.runs.create(thread_id=thread.id, assistant_id=asst.id)
    assert "active run" in refused.value.message
    client.beta.threads.runs.cancel(run.id, thread_id=thread.id)


def test_pagination_of_runs_and_steps(client: openai.OpenAI, fake_openai: FakeUpstream) -> None:
    asst = assistant(client, tools=[WEATHER])
    thread = thread_with(client)
    ids = []
    for n in range(3):
        fake_openai.script(ow.stream([f"answer {n}"]))
        ids.append(client.beta.threads.runs.create_and_poll(thread_id=thread.id, assistant_id=asst.id).id)
    first = client.beta.threads.runs.list(thread.id, limit=2)
    assert [r.id for r in first.data] == [ids[2], ids[1]] and first.has_more is True
    rest = client.beta.threads.runs.list(thread.id, limit=2, after=first.data[-1].id)
    assert [r.id for r in rest.data] == [ids[0]] and rest.has_more is False
    assert [r.id for r in client.beta.threads.runs.list(thread.id, order="asc")] == ids
    before = client.beta.threads.runs.list(thread.id, limit=1, before=ids[0])
    assert [r.id for r in before.data] == [ids[1]]
    assert [r.id for r in client.beta.threads.runs.list(thread.id, limit=1)] == ids[::-1]

    fake_openai.script(ow.stream([], tool_calls=[("call_p", "get_weather", ["{}"])]), ow.stream(["done"]))
    run = client.beta.threads.runs.create_and_poll(thread_id=thread.id, assistant_id=asst.id)
    client.beta.threads.runs.submit_tool_outputs_and_poll(run_id=run.id, thread_id=thread.id,
                                                          tool_outputs=[{"tool_call_id": "call_p", "output": "x"}])
    page = client.beta.threads.runs.steps.list(run.id, thread_id=thread.id, limit=1, order="asc")
    assert page.has_more is True and page.data[0].type == "tool_calls"
    nxt = client.beta.threads.runs.steps.list(run.id, thread_id=thread.id, limit=1, order="asc",
                                              after=page.data[0].id)
    assert nxt.data[0].type == "message_creation" and nxt.has_more is False


def test_other_projects_get_404(client: openai.OpenAI, other_client: openai.OpenAI,
                                fake_openai: FakeUpstream) -> None:
    fake_openai.script(ow.stream(["mine"]))
    asst = assistant(client)
    thread = thread_with(client)
    run = client.beta.threads.runs.create_and_poll(thread_id=thread.id, assistant_id=asst.id)
    (step,) = client.beta.threads.runs.steps.list(run.id, thread_id=thread.id).data
    calls = [
        lambda: other_client.beta.threads.runs.retrieve(run.id, thread_id=thread.id),
        lambda: other_client.beta.threads.runs.list(thread.id),
        lambda: other_client.beta.threads.runs.cancel(run.id, thread_id=thread.id),
        lambda: other_client.beta.threads.runs.update(run.id, thread_id=thread.id, metadata={"a": "b"}),
        lambda: other_client.beta.threads.runs.steps.list(run.id, thread_id=thread.id),
        lambda: other_client.beta.threads.runs.steps.retrieve(step.id, thread_id=thread.id, run_id=run.id),
        lambda: other_client.beta.threads.runs.create(thread_id=thread.id, assistant_id=asst.id),
        lambda: other_client.beta.threads.runs.submit_tool_outputs(run.id, thread_id=thread.id, tool_outputs=[]),
    ]
    for call in calls:
        with pytest.raises(openai.NotFoundError):
            call()
    with pytest.raises(openai.NotFoundError):
        client.beta.threads.runs.retrieve("run_missing", thread_id=thread.id)


def test_modify_sets_metadata(client: openai.OpenAI, fake_openai: FakeUpstream) -> None:
    fake_openai.script(ow.stream(["ok"]))
    asst = assistant(client)
    thread = thread_with(client)
    run = client.beta.threads.runs.create_and_poll(thread_id=thread.id, assistant_id=asst.id)
    changed = client.beta.threads.runs.update(run.id, thread_id=thread.id, metadata={"tag": "x"})
    assert changed.metadata == {"tag": "x"} and changed.status == "completed"
    assert client.beta.threads.runs.retrieve(run.id, thread_id=thread.id).metadata == {"tag": "x"}


BAD_INPUT = [
    ({"temperature": 5}, "temperature"),
    ({"top_p": -1}, "top_p"),
    ({"max_completion_tokens": 10}, "max_completion_tokens"),
    ({"max_prompt_tokens": "many"}, "max_prompt_tokens"),
    ({"tools": [{"type": "browser"}]}, "tools[0].type"),
    ({"tool_choice": "sometimes"}, "tool_choice"),
    ({"truncation_strategy": {"type": "last_messages"}}, "truncation_strategy.last_messages"),
    ({"response_format": "xml"}, "response_format"),
    ({"additional_messages": [{"role": "system", "content": "x"}]}, "additional_messages[0].role"),
    ({"metadata": {"k": 1}}, "metadata.k"),
    ({"model": "no-such-model"}, "model"),
    ({"surprise": True}, "surprise"),
    ({"reasoning_effort": "maximal"}, "reasoning_effort"),
]


@pytest.mark.parametrize(("extra", "param"), BAD_INPUT, ids=[p for _, p in BAD_INPUT])
def test_bad_input_is_a_400_naming_the_field(client: openai.OpenAI, extra: dict[str, object], param: str) -> None:
    asst = assistant(client)
    thread = thread_with(client)
    with pytest.raises(openai.BadRequestError) as refused:
        client.beta.threads.runs.create(thread_id=thread.id, assistant_id=asst.id, extra_body=extra)
    assert refused.value.body is not None and refused.value.body["param"] == param  # type: ignore[index]
    assert client.beta.threads.runs.list(thread.id).data == []


def test_missing_assistant_and_bad_tool_outputs(client: openai.OpenAI, fake_openai: FakeUpstream) -> None:
    thread = thread_with(client)
    with pytest.raises(openai.NotFoundError) as missing:
        client.beta.threads.runs.create(thread_id=thread.id, assistant_id="asst_nope")
    assert missing.value.body["param"] == "assistant_id"  # type: ignore[index]
    fake_openai.script(ow.stream([], tool_calls=[("call_b", "get_weather", ["{}"])]))
    asst = assistant(client, tools=[WEATHER])
    run = client.beta.threads.runs.create_and_poll(thread_id=thread.id, assistant_id=asst.id)
    with pytest.raises(openai.BadRequestError) as wrong:
        client.beta.threads.runs.submit_tool_outputs(run.id, thread_id=thread.id,
                                                     tool_outputs=[{"tool_call_id": "call_zzz", "output": "x"}])
    assert wrong.value.body["param"] == "tool_outputs[0].tool_call_id"  # type: ignore[index]
    with pytest.raises(openai.BadRequestError) as none:
        client.beta.threads.runs.submit_tool_outputs(run.id, thread_id=thread.id, tool_outputs=[])
    assert none.value.body["param"] == "tool_outputs"  # type: ignore[index]
    client.beta.threads.runs.cancel(run.id, thread_id=thread.id)


def test_a_run_on_an_anthropic_upstream(client: openai.OpenAI, fake_anthropic: FakeUpstream) -> None:
    fake_anthropic.script(
        aw.stream([aw.text("Let me check."), aw.tool_use("toolu_1", "get_weather", {"city": "Oslo"})]),
        aw.stream([aw.text("Cold: 2C.")]))
    asst = assistant(client, tools=[WEATHER], model=VIA_ANTHROPIC)
    thread = thread_with(client, "Weather?")
    run = client.beta.threads.runs.create_and_poll(thread_id=thread.id, assistant_id=asst.id)
    assert run.status == "requires_action" and run.model == VIA_ANTHROPIC
    (call,) = run.required_action.submit_tool_outputs.tool_calls  # type: ignore[union-attr]
    assert call.id == "toolu_1" and json.loads(call.function.arguments) == {"city": "Oslo"}
    done = client.beta.threads.runs.submit_tool_outputs_and_poll(
        run_id=run.id, thread_id=thread.id, tool_outputs=[{"tool_call_id": "toolu_1", "output": "2C"}])
    assert done.status == "completed"
    steps = client.beta.threads.runs.steps.list(run.id, thread_id=thread.id, order="asc").data
    assert [s.type for s in steps] == ["message_creation", "tool_calls", "message_creation"]
    assert [t for _, t in texts(client, thread.id)][-2:] == ["Let me check.", "Cold: 2C."]
    sent = fake_anthropic.last.body
    assert sent["messages"][-1]["content"][0] == {"type": "tool_result", "tool_use_id": "toolu_1", "content": "2C"} \
        or sent["messages"][-1]["content"][0]["tool_use_id"] == "toolu_1"
