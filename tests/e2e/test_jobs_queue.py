"""Durable jobs on the PostgreSQL queue (PgQueuer), with two real Switchyard processes on
one database: a cancel asked through one process reaches the batch running on the other
at once (a NOTIFY, well before the running batch would next read its row), and a batch
whose process is killed (-9) is finished by the other, no finished line run again; so is
a file being indexed into a vector store. A file batch cancelled through one process has
its queued files dropped from the queue before the cancel answers, and its files being
indexed (on either process) stopped at once."""

from __future__ import annotations

import secrets
import signal
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import asyncpg
import pytest
import yaml

from switchyard.services import QUEUE_WATCH_SECONDS
from tests.e2e import batch_support
from tests.e2e.batch_support import (
    EMBED,
    batch_server,
    chat_line,
    file_lines,
    openai_client,
    upload,
    wait_batch,
    wait_for,
)
from tests.fakes.echo_upstream import EchoUpstream
from tests.server import LiveServer, postgres_pair

pytestmark = pytest.mark.postgres

echo, fresh_echo = batch_support.echo, batch_support.fresh_echo  # the module's upstream (fixtures)
LINES = 40
PER_BATCH = 2
FILES = 12


@pytest.fixture
async def pair(tmp_path: Path, echo: EchoUpstream) -> AsyncIterator[tuple[LiveServer, LiveServer]]:
    shared = {"files_dir": str(tmp_path / "files"), "secret_key": secrets.token_urlsafe(32),
              "batches": {"concurrency_per_batch": PER_BATCH, "lease_seconds": 3},
              "vector_store_embedding_model": EMBED, "ingest_lease_seconds": 3}
    async with postgres_pair(tmp_path, lambda path, url: batch_server(path, echo, database_url=url, **shared)
                             ) as servers:
        yield servers


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


async def _queued_ingest_jobs(server: LiveServer, keys: set[str]) -> list[tuple[str, str]]:
    """(key, status) of the queue's rows for these ingestion jobs."""
    url = yaml.safe_load(server.config_path.read_text())["database_url"].replace("+asyncpg", "")
    connection = await asyncpg.connect(url)
    try:
        rows = await connection.fetch("SELECT payload, status::text FROM pgqueuer WHERE entrypoint = 'ingest'")
    finally:
        await connection.close()
    return [(bytes(row["payload"]).decode(), row["status"]) for row in rows
            if bytes(row["payload"]).decode() in keys]


def _settled(read: Callable[[], int], quiet: float = 2.0, timeout: float = 30.0) -> int:
    """``read()`` once it has not changed for ``quiet`` seconds."""
    value, since, deadline = read(), time.monotonic(), time.monotonic() + timeout
    while time.monotonic() - since < quiet and time.monotonic() < deadline:
        time.sleep(0.1)
        if (now := read()) != value:
            value, since = now, time.monotonic()
    return value


async def test_a_file_batch_cancel_drops_its_queued_files_and_stops_the_running_ones(
        pair: tuple[LiveServer, LiveServer], echo: EchoUpstream) -> None:
    client = openai_client(pair[0])
    store = client.vector_stores.create(name="slow")
    ids = [client.files.create(file=(f"doc{n}.txt", f"Document {n} tells of the tides.".encode()),
                               purpose="assistants").id for n in range(FILES)]
    echo.delay = 20.0  # one embedding call: far longer than the test waits
    batch = client.vector_stores.file_batches.create(store.id, file_ids=ids)
    keys = {f"{store.id}/{file_id}" for file_id in ids}
    wait_for(lambda: echo.in_flight, lambda n: n >= 2, timeout=60)
    started = _settled(lambda: echo.started)  # each process may run two: every free slot taken
    assert any(status == "queued" for _, status in await _queued_ingest_jobs(pair[0], keys))
    cancelled = openai_client(pair[1]).vector_stores.file_batches.cancel(batch.id, vector_store_id=store.id)
    counts = cancelled.file_counts
    assert cancelled.status == "cancelled" and (counts.cancelled, counts.completed) == (FILES, 0)
    # answered: the queued files are off the queue already, the running ones are told (on either process)
    assert [row for row in await _queued_ingest_jobs(pair[0], keys) if row[1] == "queued"] == []
    logs = lambda: sum(server.log_path.read_text().count("was cancelled or taken over; dropped")  # noqa: E731
                       for server in pair)
    wait_for(logs, lambda n: n >= 2, timeout=10)
    time.sleep(1.0)
    assert echo.started == started
    files = client.vector_stores.file_batches.list_files(batch.id, vector_store_id=store.id, limit=100)
    assert [f.status for f in files.data] == ["cancelled"] * FILES
