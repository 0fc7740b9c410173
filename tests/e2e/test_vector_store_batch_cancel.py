"""Cancelling a vector-store file batch through the official SDK reaches the ingestion
worker at once (live server on SQLite, the lease runner; the loopback upstream embeds
slowly): the answer counts every unfinished file cancelled, the file being embedded is
dropped without waiting for its embedding or its next lease renewal, no embedding starts
after the cancel, and no file of the batch completes after it."""

from __future__ import annotations

import time
from collections.abc import Iterator

import openai
import pytest

from tests.e2e import batch_support
from tests.e2e.batch_support import EMBED, batch_server, openai_client, start, wait_for
from tests.fakes.echo_upstream import EchoUpstream
from tests.server import LiveServer

echo, fresh_echo = batch_support.echo, batch_support.fresh_echo  # the module's upstream (fixtures)
FILES = 12
EMBED_SECONDS = 20.0  # one embedding call: far longer than the test waits for the cancel to land
LEASE_SECONDS = 60.0  # renewed every 20 s: a cancel seen sooner was pushed
DROPPED = "was cancelled or taken over; dropped"


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory, echo: EchoUpstream) -> Iterator[LiveServer]:
    server = batch_server(tmp_path_factory.mktemp("file-batch-cancel"), echo, vector_store_embedding_model=EMBED,
                          ingest_lease_seconds=LEASE_SECONDS)
    start(server)
    yield server
    server.stop()


def slow_file_batch(client: openai.OpenAI, echo: EchoUpstream) -> tuple[str, str]:
    """(store id, batch id) of a batch of ``FILES`` files, once one of them is being embedded."""
    store = client.vector_stores.create(name="slow")
    ids = [client.files.create(file=(f"doc{n}.txt", f"Document {n} tells of the tides.".encode()),
                               purpose="assistants").id for n in range(FILES)]
    echo.delay = EMBED_SECONDS
    batch = client.vector_stores.file_batches.create(store.id, file_ids=ids)
    wait_for(lambda: echo.in_flight, lambda n: n >= 1, timeout=60)
    # every ingestion worker takes a file at about the same time: wait until no more begin
    # (each is then held by a 20 s embedding), so that what begins later began after the cancel
    seen, deadline = -1, time.monotonic() + 15
    while echo.started != seen and time.monotonic() < deadline:
        seen = echo.started
        time.sleep(1.0)
    return store.id, batch.id


def test_cancelling_a_file_batch_stops_its_files_at_once(live: LiveServer, echo: EchoUpstream) -> None:
    client = openai_client(live)
    store_id, batch_id = slow_file_batch(client, echo)
    started = echo.started
    cancelled = client.vector_stores.file_batches.cancel(batch_id, vector_store_id=store_id)
    assert cancelled.status == "cancelled"
    counts = cancelled.file_counts
    assert (counts.cancelled, counts.in_progress, counts.completed, counts.total) == (FILES, 0, 0, FILES)
    # the file being embedded is dropped at once, not after its embedding (20 s) or its lease renewal (20 s)
    wait_for(lambda: live.log_path.read_text().count(DROPPED), lambda n: n >= 1, timeout=10)
    time.sleep(1.0)
    assert echo.started == started  # nothing queued began embedding after the cancel
    files = client.vector_stores.file_batches.list_files(batch_id, vector_store_id=store_id, limit=100)
    assert [f.status for f in files.data] == ["cancelled"] * FILES
    final = client.vector_stores.file_batches.retrieve(batch_id, vector_store_id=store_id)
    assert final.status == "cancelled" and final.file_counts.completed == 0
    assert client.vector_stores.retrieve(store_id).file_counts.completed == 0
