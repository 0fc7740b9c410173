"""Durable jobs on the PostgreSQL queue (PgQueuer), with two real Switchyard processes on
one database: a cancel asked through one process reaches the batch running on the other
at once (a NOTIFY, well before the running batch would next read its row), and a batch
whose process is killed (-9) is finished by the other, no finished line run again; so is
a file being indexed into a vector store."""

from __future__ import annotations

import secrets
import signal
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from switchyard.services import QUEUE_WATCH_SECONDS
from tests.e2e import batch_support
from tests.e2e.batch_support import (
    EMBED,
    batch_server,
    chat_line,
    file_lines,
    openai_client,
    start,
    upload,
    wait_batch,
    wait_for,
)
from tests.fakes.echo_upstream import EchoUpstream
from tests.pg import fresh_postgres_url
from tests.server import LiveServer

pytestmark = pytest.mark.postgres

echo, fresh_echo = batch_support.echo, batch_support.fresh_echo  # the module's upstream (fixtures)
LINES = 40
PER_BATCH = 2


@pytest.fixture
async def pair(tmp_path: Path, echo: EchoUpstream) -> AsyncIterator[tuple[LiveServer, LiveServer]]:
    shared = {"files_dir": str(tmp_path / "files"), "secret_key": secrets.token_urlsafe(32),
              "batches": {"concurrency_per_batch": PER_BATCH, "lease_seconds": 3},
              "vector_store_embedding_model": EMBED, "ingest_lease_seconds": 3}
    async with fresh_postgres_url() as url:
        for name in ("a", "b"):
            (tmp_path / name).mkdir()
        servers = [batch_server(tmp_path / name, echo, database_url=url, **shared) for name in ("a", "b")]
        try:
            for server in servers:
                start(server)
            yield servers[0], servers[1]
        finally:
            for server in servers:
                server.stop()


def _running(servers: tuple[LiveServer, LiveServer], key: str, kind: str = "batch") -> tuple[LiveServer, LiveServer]:
    """(the process running the job, the other), told by the line the runner logs."""
    def runner() -> LiveServer | None:
        for server in servers:
            if f"{kind} job {key} runs on" in server.log_path.read_text():
                return server
        return None

    running = wait_for(runner, lambda server: server is not None, timeout=30)
    assert running is not None
    return running, servers[1] if running is servers[0] else servers[0]


def _start_batch(server: LiveServer, echo: EchoUpstream) -> str:
    echo.delay = 0.4
    client = openai_client(server)
    file_id = upload(client, [chat_line(f"r{n}", f"line {n}") for n in range(LINES)])
    batch = client.batches.create(input_file_id=file_id, endpoint="/v1/chat/completions", completion_window="24h")
    wait_for(lambda: client.batches.retrieve(batch.id), lambda b: b.request_counts.completed >= 4)
    return batch.id


def test_a_cancel_through_one_process_reaches_the_batch_running_on_the_other(
        pair: tuple[LiveServer, LiveServer], echo: EchoUpstream) -> None:
    batch_id = _start_batch(pair[0], echo)
    running, other = _running(pair, batch_id)
    asked = time.monotonic()
    assert openai_client(other).batches.cancel(batch_id).status == "cancelling"
    seen_at_cancel = sum(echo.seen.values())
    done = wait_batch(openai_client(other), batch_id, {"cancelled"}, timeout=30)
    took = time.monotonic() - asked
    print(f"cancel to cancelled across processes: {took:.2f}s")
    assert took < QUEUE_WATCH_SECONDS / 2, f"the cancel took {took:.2f}s: it was not pushed"
    assert sum(echo.seen.values()) <= seen_at_cancel + PER_BATCH  # nothing new started after the cancel
    counts = done.request_counts
    assert counts.total == LINES and counts.failed == 0 and 4 <= counts.completed < LINES
    errors = file_lines(openai_client(running), done.error_file_id)
    assert len(errors) == LINES - counts.completed
    assert {line["error"]["code"] for line in errors} == {"batch_cancelled"}
    assert "jobs run on the PostgreSQL queue" in running.log_path.read_text()


def test_a_batch_whose_process_is_killed_is_finished_by_the_other(
        pair: tuple[LiveServer, LiveServer], echo: EchoUpstream) -> None:
    batch_id = _start_batch(pair[0], echo)
    running, other = _running(pair, batch_id)
    assert running.process is not None
    running.process.send_signal(signal.SIGKILL)
    running.process.wait()
    running.process = None
    echo.delay = 0.05
    done = wait_batch(openai_client(other), batch_id, {"completed"}, timeout=90)
    assert (done.request_counts.total, done.request_counts.completed, done.request_counts.failed) == (LINES, LINES, 0)
    output = file_lines(openai_client(other), done.output_file_id)
    assert sorted(int(line["custom_id"][1:]) for line in output) == list(range(LINES))
    for line in output:
        text = "line " + line["custom_id"][1:]
        assert line["response"]["body"]["choices"][0]["message"]["content"] == f"echo:{text}"
    assert set(echo.seen) == {f"line {n}" for n in range(LINES)}
    assert all(count <= 2 for count in echo.seen.values())  # in flight (or unwritten) at the kill: once more at most
    assert f"batch job {batch_id} runs on" in other.log_path.read_text()
    assert "resumed" in other.log_path.read_text()


def test_a_file_whose_indexing_process_is_killed_is_indexed_by_the_other(
        pair: tuple[LiveServer, LiveServer], echo: EchoUpstream) -> None:
    echo.delay = 1.0  # each batch of 64 chunks takes a second to embed
    client = openai_client(pair[0])
    store = client.vector_stores.create(name="durable")
    text = " ".join(f"Sentence {n} tells of the tides, the moon and the sea." for n in range(1500))
    file = client.files.create(file=("long.txt", text.encode()), purpose="assistants")
    client.vector_stores.files.create(vector_store_id=store.id, file_id=file.id, chunking_strategy={
        "type": "static", "static": {"max_chunk_size_tokens": 100, "chunk_overlap_tokens": 0}})
    running, other = _running(pair, f"{store.id}/{file.id}", "ingest")
    wait_for(lambda: sum(echo.seen.values()), lambda seen: seen >= 64)  # mid-file: a batch embedded
    assert running.process is not None
    running.process.send_signal(signal.SIGKILL)
    running.process.wait()
    running.process = None
    echo.delay = 0.0
    survivor = openai_client(other)
    done = wait_for(lambda: survivor.vector_stores.files.retrieve(file.id, vector_store_id=store.id),
                    lambda f: f.status != "in_progress", timeout=90)
    assert done.status == "completed", done.last_error
    assert f"ingest job {store.id}/{file.id} runs on" in other.log_path.read_text()
    hits = survivor.vector_stores.search(store.id, query="Sentence 1499 tells of the tides")
    assert hits.data and hits.data[0].file_id == file.id
