"""A process that drains beside another on one PostgreSQL database: a follower of a
background response running on the other process ends at the drain's deadline with the
Responses ``error`` event (the SDK raises ``APIError``) naming where to resume, and
resuming through the other process yields the rest, none lost or repeated, the response
itself untouched (on the process running it, the run is handed back when the process
stops and ended ``failed``, as after a kill); and a draining process claims no queued job: background responses,
batches, ingestion and Assistants runs queued after its SIGTERM all run on the other."""

from __future__ import annotations

import secrets
import signal
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import openai
import pytest

from tests.conftest import VIA_OPENAI, upstream_models
from tests.e2e.batch_support import CHAT, EMBED, echo, echo_models, fresh_echo, upload, wait_batch, wait_for
from tests.e2e.responses_stream_validator import check_stream
from tests.e2e.runs_support import wait_run
from tests.e2e.test_drain import Reader, _start
from tests.fakes import openai_wire as ow
from tests.fakes.echo_upstream import EchoUpstream
from tests.fakes.upstream import FakeUpstream, Stream, by_stream
from tests.server import MASTER_KEY, LiveServer, postgres_pair

__all__ = ["echo", "fresh_echo"]  # fixtures
pytestmark = [pytest.mark.postgres,
              pytest.mark.filterwarnings("ignore:.*Assistants API is deprecated:DeprecationWarning",
                                         "ignore:deprecated:DeprecationWarning")]

DRAIN = 8.0  # drain_seconds of both processes
SHUTTING_DOWN = "The server is shutting down"
ECHO = "gpt-echo"  # the echo upstream's chat model (batch lines)


@pytest.fixture
async def pair(tmp_path: Path, fake_openai: FakeUpstream, fake_anthropic: FakeUpstream, echo: EchoUpstream
               ) -> AsyncIterator[tuple[LiveServer, LiveServer]]:
    echoed = {model["name"]: model for model in echo_models(echo)}
    models = [*upstream_models(fake_openai, fake_anthropic, timeout=120),
              {**echoed[CHAT], "name": ECHO}, echoed[EMBED]]
    shared = {"secret_key": secrets.token_urlsafe(32), "files_dir": str(tmp_path / "files"),
              "background_lease_seconds": 2, "drain_seconds": DRAIN, "vector_store_embedding_model": EMBED,
              "batches": {"lease_seconds": 3}}
    async with postgres_pair(tmp_path, lambda path, url: LiveServer(path, models, database_url=url, **shared)
                             ) as servers:
        yield servers


def _client(server: LiveServer) -> openai.OpenAI:
    return openai.OpenAI(base_url=server.url + "/v1", api_key=MASTER_KEY, max_retries=0, timeout=120,
                         _strict_response_validation=True)


def _runs_on(server: LiveServer, kind: str, key: str) -> bool:
    return f"{kind} job {key} runs on" in server.log_path.read_text()


def _running(pair: tuple[LiveServer, LiveServer], response_id: str) -> tuple[LiveServer, LiveServer]:
    running = wait_for(lambda: next((s for s in pair if _runs_on(s, "background_response", response_id)), None),
                       lambda server: server is not None, timeout=60)
    assert running is not None
    return running, pair[1] if running is pair[0] else pair[0]


def _sigterm(server: LiveServer) -> float:
    assert server.process is not None
    stopped_at = time.monotonic()
    server.process.send_signal(signal.SIGTERM)
    return stopped_at


def test_a_follower_on_a_draining_process_ends_with_the_error_event_and_resumes_on_another(
        pair: tuple[LiveServer, LiveServer], fake_openai: FakeUpstream) -> None:
    pieces = [f"w{n} " for n in range(120)]
    fake_openai.script(by_stream(ow.completion("".join(pieces)), ow.stream(pieces, delay=0.15)))  # 18 s
    created = _client(pair[0]).responses.create(model=VIA_OPENAI, input="count", background=True)
    running, draining = _running(pair, created.id)
    follower = Reader("follower", lambda: iter(_client(draining).responses.retrieve(created.id, stream=True)))
    thread = _start(follower)
    wait_for(lambda: len(follower.items), lambda n: n >= 5)
    stopped_at = _sigterm(draining)
    thread.join(DRAIN + 60)
    assert not thread.is_alive(), "the follower never ended"

    error = follower.error
    assert isinstance(error, openai.APIError) and not isinstance(error, openai.APIStatusError), repr(error)
    before = [event.model_dump(mode="json", exclude_unset=True) for event in follower.items]
    last = before[-1]["sequence_number"]
    assert SHUTTING_DOWN in error.message and f"starting_after={last}" in error.message, error.message
    assert isinstance(error.body, dict) and error.body["code"] == "server_shutting_down"
    assert follower.ended_at - stopped_at >= DRAIN  # it followed until the deadline
    assert before[-1]["type"] == "response.output_text.delta"  # the response was still under way

    after = [event.model_dump(mode="json", exclude_unset=True) for event in
             _client(running).responses.retrieve(created.id, stream=True, starting_after=last)]
    events = before + after
    assert [e["sequence_number"] for e in events] == list(range(len(events)))  # none lost, none repeated
    check_stream(events)
    assert events[-1]["type"] == "response.completed"
    assert "".join(e["delta"] for e in events if e["type"] == "response.output_text.delta") == "".join(pieces)
    assert _client(running).responses.retrieve(created.id).status == "completed"  # not failed by the drain
    assert draining.process is not None
    draining.process.wait(timeout=60)
    draining.process = None


def test_a_follower_on_the_draining_process_that_runs_the_response_resumes_on_another(
        pair: tuple[LiveServer, LiveServer], fake_openai: FakeUpstream) -> None:
    """The process running the response drains: its follower gets the error event at the
    deadline; the run goes on until the process stops, then is handed back and ended
    ``failed`` by the other process (as after a kill), which the resumed stream shows."""
    pieces = [f"w{n} " for n in range(400)]
    fake_openai.script(by_stream(ow.completion("".join(pieces)), ow.stream(pieces, delay=0.15)))  # 60 s
    created = _client(pair[0]).responses.create(model=VIA_OPENAI, input="count", background=True)
    draining, other = _running(pair, created.id)
    follower = Reader("follower", lambda: iter(_client(draining).responses.retrieve(created.id, stream=True)))
    thread = _start(follower)
    wait_for(lambda: len(follower.items), lambda n: n >= 5)
    _sigterm(draining)
    thread.join(DRAIN + 60)
    assert not thread.is_alive(), "the follower never ended"

    error = follower.error
    assert isinstance(error, openai.APIError), repr(error)
    before = [event.model_dump(mode="json", exclude_unset=True) for event in follower.items]
    last = before[-1]["sequence_number"]
    assert SHUTTING_DOWN in error.message and f"starting_after={last}" in error.message, error.message
    after = [event.model_dump(mode="json", exclude_unset=True) for event in
             _client(other).responses.retrieve(created.id, stream=True, starting_after=last)]
    events = before + after
    assert [e["sequence_number"] for e in events] == list(range(len(events)))
    check_stream(events)
    assert events[-1]["type"] == "response.failed"
    assert "stopped" in events[-1]["response"]["error"]["message"]
    assert _runs_on(other, "background_response", created.id)  # handed back when the draining one stopped
    assert draining.process is not None
    draining.process.wait(timeout=60)
    draining.process = None


def _held(server: LiveServer, fake_openai: FakeUpstream) -> Reader:
    """A chat stream on ``server`` that pauses past any deadline: the process stays up,
    draining, until its deadline."""
    stream: Stream = ow.stream(["one ", "two"])
    first_text = next(k for k, (_, data) in enumerate(stream.frames) if "one " in str(data))
    stream.stall = (first_text + 1, 600)
    fake_openai.script(stream)
    reader = Reader("held", lambda: iter(_client(server).chat.completions.create(
        model=VIA_OPENAI, messages=[{"role": "user", "content": "hold"}], stream=True)))
    _start(reader)
    return reader


def test_a_draining_process_claims_no_queued_job(
        pair: tuple[LiveServer, LiveServer], fake_openai: FakeUpstream, echo: EchoUpstream) -> None:
    draining, other = pair
    _held(draining, fake_openai)
    _sigterm(draining)
    wait_for(lambda: _refused(draining), lambda refused: refused, timeout=30)
    assert "draining: this process takes no more queued jobs" in draining.log_path.read_text()

    client = _client(other)
    fake_openai.script(*(by_stream(ow.completion("done"), ow.stream(["done"])) for _ in range(5)))
    responses = [client.responses.create(model=VIA_OPENAI, input=f"job {n}", background=True).id
                 for n in range(4)]
    file_id = upload(client, [{"custom_id": f"r{n}", "method": "POST", "url": "/v1/chat/completions",
                               "body": {"model": ECHO, "messages": [{"role": "user", "content": f"line {n}"}]}}
                              for n in range(3)])
    batch = client.batches.create(input_file_id=file_id, endpoint="/v1/chat/completions", completion_window="24h")
    store = client.vector_stores.create(name="drained")
    document = client.files.create(file=("tides.txt", b"The tides follow the moon."), purpose="assistants")
    client.vector_stores.files.create(vector_store_id=store.id, file_id=document.id)
    assistant = client.beta.assistants.create(model=VIA_OPENAI, instructions="Be brief.")
    thread = client.beta.threads.create(messages=[{"role": "user", "content": "Hi"}])
    run = client.beta.threads.runs.create(thread_id=thread.id, assistant_id=assistant.id)
    jobs = [*(("background_response", key) for key in responses), ("batch", batch.id),
            ("ingest", f"{store.id}/{document.id}"), ("assistant-runs", run.id)]

    for kind, key in jobs:
        wait_for(lambda kind=kind, key=key: any(_runs_on(s, kind, key) for s in pair),  # type: ignore[misc]
                 lambda ran: ran, timeout=60)
    assert draining.process is not None and draining.process.poll() is None  # it could still have claimed them
    for kind, key in jobs:
        assert not _runs_on(draining, kind, key), f"the draining process ran {kind} job {key}"
        assert _runs_on(other, kind, key)
    for response_id in responses:
        done = wait_for(lambda r=response_id: client.responses.retrieve(r), lambda r: r.status == "completed")  # type: ignore[misc]
        assert done.output_text == "done"
    assert wait_batch(client, batch.id, {"completed"}).request_counts.completed == 3
    indexed = wait_for(lambda: client.vector_stores.files.retrieve(document.id, vector_store_id=store.id),
                       lambda f: f.status != "in_progress")
    assert indexed.status == "completed", indexed.last_error
    assert wait_run(client, thread.id, run.id, {"completed"}).status == "completed"
    draining.process.wait(timeout=DRAIN + 60)
    draining.process = None


def _refused(server: LiveServer) -> bool:
    try:
        httpx.get(server.url + "/health", timeout=2)
    except (httpx.ConnectError, httpx.ReadError):
        # a connection queued in the backlog as the listener closes is reset, not refused
        return True
    return False
