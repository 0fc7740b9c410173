"""Background responses on the PostgreSQL job queue (PgQueuer), with two real Switchyard
processes on one database: a cancel asked through one process stops the response running
on the other, and a response whose process is killed (-9) is ended ``failed`` by the
other (a response cannot be resumed mid-answer), its stream closed with
``response.failed`` for a follower on the surviving process."""

from __future__ import annotations

import secrets
import signal
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import openai
import pytest

from tests.conftest import VIA_OPENAI, upstream_models
from tests.e2e.batch_support import wait_for
from tests.e2e.responses_stream_validator import check_stream
from tests.fakes import openai_wire as ow
from tests.fakes.upstream import FakeUpstream
from tests.server import MASTER_KEY, LiveServer, postgres_pair

pytestmark = pytest.mark.postgres


@pytest.fixture
async def pair(tmp_path: Path, fake_openai: FakeUpstream, fake_anthropic: FakeUpstream
               ) -> AsyncIterator[tuple[LiveServer, LiveServer]]:
    models = [{**model, "timeout": 120} for model in upstream_models(fake_openai, fake_anthropic)]
    shared = {"secret_key": secrets.token_urlsafe(32), "files_dir": str(tmp_path / "files"),
              "background_lease_seconds": 2}
    async with postgres_pair(tmp_path, lambda path, url: LiveServer(path, models, database_url=url, **shared),
                             timeout=120) as servers:
        yield servers


def _client(server: LiveServer) -> openai.OpenAI:
    return openai.OpenAI(base_url=server.url + "/v1", api_key=MASTER_KEY, max_retries=0, timeout=60,
                         _strict_response_validation=True)


def _hanging_response(server: LiveServer, fake_openai: FakeUpstream) -> tuple[str, list[dict[str, Any]]]:
    """A background response whose model answers ``partial`` and then hangs, started
    through ``server``, once its text has begun."""
    hanging = ow.stream(["partial"])
    hanging.stall = (2, 60)
    fake_openai.script(hanging)
    before = []
    for event in _client(server).responses.create(model=VIA_OPENAI, input="go", background=True, stream=True):
        before.append(event.model_dump(mode="json", exclude_unset=True))
        if event.type == "response.output_text.delta":
            break
    return before[0]["response"]["id"], before


def _running(servers: tuple[LiveServer, LiveServer], response_id: str) -> tuple[LiveServer, LiveServer]:
    def runner() -> LiveServer | None:
        for server in servers:
            if f"background_response job {response_id} runs on" in server.log_path.read_text():
                return server
        return None

    running = wait_for(runner, lambda server: server is not None, timeout=30)
    assert running is not None
    return running, servers[1] if running is servers[0] else servers[0]


def test_a_cancel_through_one_process_stops_the_response_running_on_the_other(
        pair: tuple[LiveServer, LiveServer], fake_openai: FakeUpstream) -> None:
    response_id, _ = _hanging_response(pair[0], fake_openai)
    running, other = _running(pair, response_id)
    asked = time.monotonic()
    cancelled = _client(other).responses.cancel(response_id)
    assert cancelled.status == "cancelled", cancelled.status
    assert time.monotonic() - asked < 30  # long before the model's 60 s stall ends: the cancel reached the runner
    stored = _client(running).responses.retrieve(response_id)
    assert stored.status == "cancelled"
    assert "jobs run on the PostgreSQL queue" in running.log_path.read_text()


def test_a_response_whose_process_is_killed_is_ended_failed_by_the_other(
        pair: tuple[LiveServer, LiveServer], fake_openai: FakeUpstream) -> None:
    response_id, before = _hanging_response(pair[0], fake_openai)
    running, other = _running(pair, response_id)
    assert running.process is not None
    running.process.send_signal(signal.SIGKILL)
    running.process.wait()
    running.process = None
    client = _client(other)
    live = [e.model_dump(mode="json", exclude_unset=True) for e in client.responses.retrieve(response_id, stream=True)]
    failed = wait_for(lambda: client.responses.retrieve(response_id), lambda r: r.status == "failed", timeout=30)
    assert failed.error is not None and "stopped" in failed.error.message
    check_stream(live)
    assert live[-1]["type"] == "response.failed"
    assert live[:len(before)] == before
    assert f"background_response job {response_id} runs on" in other.log_path.read_text()
