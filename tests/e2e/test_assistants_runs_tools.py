"""Assistants runs with file_search (results in the steps, with ``include[]``, and
``file_citation`` annotations on the answer), runs that outlive their process (kill -9
mid-run: the next process fails it with the reason, never leaves it in progress), and
one run on the embedded model (slow)."""

from __future__ import annotations

import asyncio
import io
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import openai
import pytest
from openai import AssistantEventHandler
from openai.types.beta.threads.runs import ToolCall

from tests.conftest import LOCAL, VIA_OPENAI, embedding_models, upstream_models
from tests.e2e.runs_support import WEATHER, client_for, texts, thread_with, wait_run
from tests.fakes import openai_wire as ow
from tests.fakes.upstream import FakeUpstream
from tests.server import MASTER_KEY, LiveServer

pytestmark = pytest.mark.filterwarnings("ignore:.*Assistants API is deprecated:DeprecationWarning",
                                        "ignore:deprecated:DeprecationWarning")
INCLUDE = "step_details.tool_calls[*].file_search.results[*].content"


@pytest.fixture(scope="module")
def search_server(tmp_path_factory: pytest.TempPathFactory, fake_openai: FakeUpstream,
                  fake_anthropic: FakeUpstream) -> Iterator[LiveServer]:
    models = [*upstream_models(fake_openai, fake_anthropic), *embedding_models(fake_openai)]
    live = LiveServer(tmp_path_factory.mktemp("switchyard-runs-search"), models, stream_keepalive_seconds=1.0)
    live.start(wait_ready=True)
    yield live
    live.stop()


def _store(client: openai.OpenAI) -> tuple[str, str]:
    file_id = client.files.create(file=("volcanoes.md", io.BytesIO(
        b"# Volcanoes\nMount Erebus in Antarctica holds a persistent lava lake.")), purpose="assistants").id
    store = client.vector_stores.create(name="kb", file_ids=[file_id])
    deadline = time.monotonic() + 120
    while client.vector_stores.retrieve(store.id).file_counts.in_progress and time.monotonic() < deadline:
        time.sleep(0.2)
    return store.id, file_id


def test_file_search_steps_and_citations(search_server: LiveServer, fake_openai: FakeUpstream) -> None:
    client = client_for(search_server)
    store_id, file_id = _store(client)
    asst = client.beta.assistants.create(model=VIA_OPENAI, tools=[{"type": "file_search"}],
                                         tool_resources={"file_search": {"vector_store_ids": [store_id]}})
    fake_openai.script(ow.stream([], tool_calls=[("call_fs", "file_search", ['{"queries": ["lava lake"]}'])]),
                       ow.stream(["Mount Erebus has one."]))
    thread = thread_with(client, "Which volcano has a lava lake?")
    run = client.beta.threads.runs.create_and_poll(thread_id=thread.id, assistant_id=asst.id)
    assert run.status == "completed"
    steps = client.beta.threads.runs.steps.list(run.id, thread_id=thread.id, order="asc").data
    assert [s.type for s in steps] == ["tool_calls", "message_creation"]
    details = steps[0].step_details
    assert details.type == "tool_calls" and details.tool_calls[0].type == "file_search"
    results = details.tool_calls[0].file_search.results  # type: ignore[union-attr]
    assert results and results[0].file_id == file_id and results[0].file_name == "volcanoes.md"
    assert results[0].content is None
    full = client.beta.threads.runs.steps.retrieve(steps[0].id, thread_id=thread.id, run_id=run.id, include=[INCLUDE])
    content = full.step_details.tool_calls[0].file_search.results[0].content  # type: ignore[union-attr]
    assert content and "lava lake" in (content[0].text or "")
    listed = client.beta.threads.runs.steps.list(run.id, thread_id=thread.id, include=[INCLUDE]).data
    assert any(s.type == "tool_calls" and s.step_details.tool_calls[0].file_search.results[0].content  # type: ignore
               for s in listed)
    (message,) = client.beta.threads.messages.list(thread.id, run_id=run.id).data
    text = message.content[0].text  # type: ignore[union-attr]
    assert text.value.startswith("Mount Erebus has one.")
    (citation,) = text.annotations
    assert citation.type == "file_citation" and citation.file_citation.file_id == file_id  # type: ignore[union-attr]
    assert text.value[citation.start_index:citation.end_index] == citation.text
    passage = fake_openai.received[-1].body["messages"][-1]
    assert passage["role"] == "tool" and "lava lake" in passage["content"]


def test_file_search_streamed_through_an_event_handler(search_server: LiveServer,
                                                      fake_openai: FakeUpstream) -> None:
    client = client_for(search_server)
    store_id, file_id = _store(client)
    asst = client.beta.assistants.create(model=VIA_OPENAI, tools=[{"type": "file_search"}])
    thread = client.beta.threads.create(messages=[{"role": "user", "content": "Lava?"}],
                                        tool_resources={"file_search": {"vector_store_ids": [store_id]}})
    fake_openai.script(ow.stream([], tool_calls=[("call_fs2", "file_search", ['{"queries": ["lava"]}'])]),
                       ow.stream(["Erebus."]))
    created: list[str] = []
    done: list[object] = []

    class Handler(AssistantEventHandler):
        def on_tool_call_created(self, tool_call: ToolCall) -> None:
            created.append(tool_call.type)

        def on_tool_call_done(self, tool_call: ToolCall) -> None:
            done.append(tool_call)

    with client.beta.threads.runs.stream(thread_id=thread.id, assistant_id=asst.id, event_handler=Handler(),
                                         include=[INCLUDE]) as stream:
        stream.until_done()
        steps = stream.get_final_run_steps()
        (message,) = stream.get_final_messages()
    assert created == ["file_search"] and done  # (the SDK reports it done again at each later step and the run)
    search = steps[0].step_details.tool_calls[0]  # type: ignore[union-attr]
    assert search.type == "file_search" and search.file_search.results[0].file_id == file_id  # type: ignore
    assert search.file_search.results[0].content  # type: ignore[union-attr]
    text = message.content[0].text  # type: ignore[union-attr]
    assert text.value.startswith("Erebus.") and text.annotations[0].type == "file_citation"


def test_a_run_whose_process_dies_is_failed_with_the_reason(tmp_path_factory: pytest.TempPathFactory,
                                                            fake_openai: FakeUpstream,
                                                            fake_anthropic: FakeUpstream) -> None:
    workdir = tmp_path_factory.mktemp("switchyard-runs-kill")
    models = upstream_models(fake_openai, fake_anthropic, timeout=60)
    first = LiveServer(workdir, models, background_lease_seconds=2)
    first.start(wait_ready=True)
    try:
        client = client_for(first)
        slow = ow.stream(["started ", "never finished"])
        slow.stall = (2, 30)
        fake_openai.script(slow)
        asst = client.beta.assistants.create(model=VIA_OPENAI)
        thread = thread_with(client)
        run = client.beta.threads.runs.create(thread_id=thread.id, assistant_id=asst.id)
        wait_run(client, thread.id, run.id, {"in_progress"})
        assert first.process is not None
        first.process.send_signal(signal.SIGKILL)
        first.process.wait()
        first.process = None
    finally:
        first.stop()
    second = LiveServer(workdir, models, background_lease_seconds=2)
    second.start(wait_ready=True)
    try:
        client = client_for(second)
        failed = wait_run(client, thread.id, run.id, {"failed"}, timeout=30)
        assert failed.last_error is not None and "stopped before it finished" in failed.last_error.message
        assert failed.failed_at is not None
        fake_openai.script(ow.stream(["after restart"]))
        again = client.beta.threads.runs.create_and_poll(thread_id=thread.id, assistant_id=asst.id)
        assert again.status == "completed" and texts(client, thread.id)[-1] == ("assistant", "after restart")
    finally:
        second.stop()


@pytest.mark.slow
def test_a_run_on_the_embedded_model(oai: openai.OpenAI) -> None:
    asst = oai.beta.assistants.create(model=LOCAL, instructions="Answer in one short sentence.")
    thread = thread_with(oai, "What is the capital of France?")
    run = oai.beta.threads.runs.create_and_poll(thread_id=thread.id, assistant_id=asst.id,
                                                max_completion_tokens=256, temperature=0)
    assert run.status in ("completed", "incomplete")
    assert run.usage is not None and run.usage.completion_tokens > 0
    role, text = texts(oai, thread.id)[-1]
    assert role == "assistant" and "Paris" in text


@pytest.mark.postgres
async def test_runs_on_postgresql(tmp_path: Path, fake_openai: FakeUpstream, fake_anthropic: FakeUpstream) -> None:
    from tests.pg import fresh_postgres_url

    async with fresh_postgres_url() as url:
        live = LiveServer(tmp_path, upstream_models(fake_openai, fake_anthropic), database_url=url)
        live.start(wait_ready=True, timeout=90)
        try:
            client = openai.AsyncOpenAI(base_url=live.url + "/v1", api_key=MASTER_KEY, max_retries=0, timeout=60,
                                        _strict_response_validation=True)
            fake_openai.script(ow.stream([], tool_calls=[("call_pg", "get_weather", ["{}"])]), ow.stream(["pg ok"]))
            asst = await client.beta.assistants.create(model=VIA_OPENAI, tools=[WEATHER])
            thread = await client.beta.threads.create(messages=[{"role": "user", "content": "hi"}])
            run = await client.beta.threads.runs.create_and_poll(thread_id=thread.id, assistant_id=asst.id)
            assert run.status == "requires_action"
            async with client.beta.threads.runs.submit_tool_outputs_stream(
                    thread_id=thread.id, run_id=run.id,
                    tool_outputs=[{"tool_call_id": "call_pg", "output": "x"}]) as stream:
                await stream.until_done()
                final = await stream.get_final_run()
            assert final.status == "completed"
            steps = (await client.beta.threads.runs.steps.list(run.id, thread_id=thread.id, order="asc")).data
            assert [(s.type, s.status) for s in steps] == [("tool_calls", "completed"),
                                                          ("message_creation", "completed")]
            slow = ow.stream(["never ", "finishes"])
            slow.stall = (2, 20)
            fake_openai.script(slow)  # a queued run, picked from PgQueuer's queue, then cancelled through it
            other = await client.beta.threads.create(messages=[{"role": "user", "content": "slow"}])
            queued = await client.beta.threads.runs.create(thread_id=other.id, assistant_id=asst.id)
            for _ in range(300):
                current = await client.beta.threads.runs.retrieve(queued.id, thread_id=other.id)
                if current.status == "in_progress":
                    break
                await asyncio.sleep(0.1)
            assert current.status == "in_progress"
            await client.beta.threads.runs.cancel(queued.id, thread_id=other.id)
            for _ in range(300):
                current = await client.beta.threads.runs.retrieve(queued.id, thread_id=other.id)
                if current.status == "cancelled":
                    break
                await asyncio.sleep(0.1)
            assert current.status == "cancelled"
            await client.close()
        finally:
            live.stop()
