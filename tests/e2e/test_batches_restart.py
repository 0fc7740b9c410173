"""Batches survive their server: stopped (or killed) mid-run, the next process resumes
them without redoing a finished line, on SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio
import signal
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest

from tests.e2e import batch_support
from tests.e2e.batch_support import (
    anthropic_client,
    batch_server,
    chat_line,
    file_lines,
    message_request,
    openai_client,
    start,
    upload,
    wait_batch,
    wait_for,
    wait_message_batch,
)
from tests.fakes.echo_upstream import EchoUpstream
from tests.pg import fresh_postgres_url
from tests.server import LiveServer

LINES = 24
PER_BATCH = 2

echo, fresh_echo = batch_support.echo, batch_support.fresh_echo  # the module's upstream (fixtures)


@pytest.fixture
def postgres_url() -> Iterator[str]:
    manager = fresh_postgres_url()
    loop = asyncio.new_event_loop()
    try:
        yield loop.run_until_complete(manager.__aenter__())
    finally:
        loop.run_until_complete(manager.__aexit__(None, None, None))
        loop.close()


def _server(workdir: Path, echo: EchoUpstream, database_url: str | None) -> LiveServer:
    extra = {"database_url": database_url} if database_url else {}
    return batch_server(workdir, echo, batches={"concurrency_per_batch": PER_BATCH, "lease_seconds": 2}, **extra)


def _interrupt(server: LiveServer, how: str) -> None:
    assert server.process is not None
    if how == "stop":
        server.stop()
        return
    server.process.send_signal(signal.SIGKILL)
    server.process.wait()
    server.process = None


def _stored(server: LiveServer, batch_id: str, url: str | None) -> set[str]:
    """The custom ids whose outcome the stopped server had stored, read from its database."""
    query = "SELECT custom_id FROM batch_lines WHERE batch_id = $1 AND state != 'pending'"
    if url is None:
        with sqlite3.connect(server.workdir / "data" / "switchyard.db") as db:
            return {row[0] for row in db.execute(query.replace("$1", "?"), (batch_id,))}

    async def read() -> set[str]:
        connection = await asyncpg.connect(str(url).replace("postgresql+asyncpg://", "postgresql://"))
        try:
            return {row[0] for row in await connection.fetch(query, batch_id)}
        finally:
            await connection.close()

    return asyncio.run(read())


def _check_redone(echo: EchoUpstream, seen_then: dict[str, int], stored: set[str], how: str) -> None:
    """A line whose outcome was stored is never sent again; the others (in flight, or answered
    but not yet written when the process died) are sent again once at most."""
    assert stored and all(seen_then.get(text) == 1 for text in stored)
    assert all(echo.seen[text] == 1 for text in stored)
    redone = [text for text, count in echo.seen.items() if count > 1]
    assert all(echo.seen[text] == 2 and text not in stored for text in redone)
    if how == "stop":  # a stopping server writes what finished: only the lines in flight run again
        assert len(redone) <= PER_BATCH


def _resume_openai(server: LiveServer, echo: EchoUpstream, how: str, url: str | None) -> None:
    echo.delay = 0.25
    client = openai_client(server)
    texts = [f"line {n}" for n in range(LINES)]
    file_id = upload(client, [chat_line(f"r{n}", t) for n, t in enumerate(texts)])
    batch = client.batches.create(input_file_id=file_id, endpoint="/v1/chat/completions", completion_window="24h")
    before = wait_for(lambda: client.batches.retrieve(batch.id), lambda b: b.request_counts.completed >= 6)
    _interrupt(server, how)
    seen_then, stored = dict(echo.seen), _stored(server, batch.id, url)
    done_before = before.request_counts.completed
    start(server)
    done = wait_batch(openai_client(server), batch.id, {"completed"}, timeout=90)
    assert (done.request_counts.total, done.request_counts.completed, done.request_counts.failed) == (LINES, LINES, 0)
    output = file_lines(openai_client(server), done.output_file_id)
    assert sorted(line["custom_id"] for line in output) == sorted(f"r{n}" for n in range(LINES))
    for line in output:
        n = int(line["custom_id"][1:])
        assert line["response"]["body"]["choices"][0]["message"]["content"] == f"echo:line {n}"
    assert set(echo.seen) == set(texts)
    _check_redone(echo, seen_then, {f"line {c[1:]}" for c in stored}, how)
    assert done_before < LINES
    assert "resumed" in server.log_path.read_text()


def _resume_anthropic(server: LiveServer, echo: EchoUpstream, how: str, url: str | None) -> None:
    echo.delay = 0.25
    client = anthropic_client(server)
    batch = client.messages.batches.create(
        requests=[message_request(f"a{n}", f"msg {n}") for n in range(LINES)])  # type: ignore[arg-type]
    wait_for(lambda: sum(echo.seen.values()), lambda seen: seen >= 10)
    _interrupt(server, how)
    seen_then, stored = dict(echo.seen), _stored(server, batch.id, url)
    start(server)
    client = anthropic_client(server)
    done = wait_message_batch(client, batch.id, timeout=90)
    assert done.request_counts.succeeded == LINES
    results = list(client.messages.batches.results(batch.id))
    assert sorted(r.custom_id for r in results) == sorted(f"a{n}" for n in range(LINES))
    _check_redone(echo, seen_then, {f"msg {c[1:]}" for c in stored}, how)


def test_batches_on_sqlite_resume_after_a_stop_and_a_kill(tmp_path: Path, echo: EchoUpstream) -> None:
    server = _server(tmp_path, echo, None)
    start(server)
    try:
        _resume_openai(server, echo, "stop", None)
        echo.reset()
        _resume_anthropic(server, echo, "kill", None)
    finally:
        server.stop()


def test_batches_on_postgresql_resume_after_a_kill_and_a_stop(tmp_path: Path, echo: EchoUpstream,
                                                               postgres_url: str) -> None:
    server = _server(tmp_path, echo, postgres_url)
    start(server)
    try:
        _resume_openai(server, echo, "kill", postgres_url)
        echo.reset()
        _resume_anthropic(server, echo, "stop", postgres_url)
    finally:
        server.stop()
