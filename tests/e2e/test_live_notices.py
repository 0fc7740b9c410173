"""Two Switchyard processes on one PostgreSQL: a background response is followed from
both while one of them runs it, and the readers are woken by PostgreSQL's LISTEN/NOTIFY,
not by polling. The fallback poll is set to two minutes, so a follower in the process
that does not run the response can only finish in time if the notices reach it."""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import AsyncIterator
from typing import Any

import openai
import pytest

from tests.conftest import VIA_OPENAI
from tests.fakes import openai_wire as ow
from tests.fakes.upstream import FakeUpstream
from tests.pg import fresh_postgres_url
from tests.server import MASTER_KEY, LiveServer

pytestmark = pytest.mark.postgres

POLL = 120.0


@pytest.fixture(scope="module")
async def pair(tmp_path_factory: pytest.TempPathFactory, fake_openai: FakeUpstream
               ) -> AsyncIterator[tuple[LiveServer, LiveServer]]:
    model = {"name": VIA_OPENAI, "provider": "openai", "base_url": fake_openai.url + "/v1",
             "api_key": "upstream-key", "model": "gpt-upstream", "timeout": 30}
    shared: dict[str, Any] = {"secret_key": secrets.token_urlsafe(32), "follow_poll_seconds": POLL,
                              "files_dir": str(tmp_path_factory.mktemp("files"))}
    async with fresh_postgres_url() as url:
        servers = [LiveServer(tmp_path_factory.mktemp(name), [model], database_url=url, **shared)
                   for name in ("notices-a", "notices-b")]
        try:
            for server in servers:
                server.start(wait_ready=True, timeout=180)
            yield servers[0], servers[1]
        finally:
            for server in servers:
                server.stop()


def _client(server: LiveServer) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(base_url=server.url + "/v1", api_key=MASTER_KEY, max_retries=0, timeout=POLL * 2,
                              _strict_response_validation=True)


async def _follow(server: LiveServer, response_id: str) -> tuple[list[str], str, float]:
    started = time.monotonic()
    types, text = [], ""
    async with _client(server) as client:
        async for event in await client.responses.retrieve(response_id, stream=True):
            types.append(event.type)
            if event.type == "response.output_text.delta":
                text += event.delta
    return types, text, time.monotonic() - started


async def test_followers_in_both_processes_are_woken_by_notices(pair: tuple[LiveServer, LiveServer],
                                                                 fake_openai: FakeUpstream) -> None:
    a, b = pair
    fake_openai.script(ow.stream(["one ", "two ", "three"], delay=0.4))
    async with _client(a) as client:
        created = await client.responses.create(model=VIA_OPENAI, input="count", background=True)
    followed = await asyncio.gather(_follow(a, created.id), _follow(b, created.id))
    for types, text, seconds in followed:
        assert types[-1] == "response.completed" and text == "one two three", types
        assert seconds < POLL / 4, seconds  # a poll-driven follower would still be waiting
    assert {event.split(".")[1] for event in followed[0][0]} == {event.split(".")[1] for event in followed[1][0]}
