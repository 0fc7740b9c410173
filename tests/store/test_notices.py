"""Notices between processes on PostgreSQL's LISTEN/NOTIFY (``store/notices.py``): two
``PgNotices`` on one database stand for two processes. Topics published while a send is
under way go out together in one statement; every one must still reach the other side."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import pytest

from switchyard.store import Database
from switchyard.store.notices import PgNotices
from tests.pg import fresh_postgres_url

pytestmark = pytest.mark.postgres


@pytest.fixture
async def database() -> AsyncIterator[Database]:
    async with fresh_postgres_url() as url:
        db = Database(url)
        await db.start()
        try:
            yield db
        finally:
            await db.aclose()


async def _until(check: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not check() and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.02)


async def test_every_topic_published_at_once_is_heard_by_the_other_process(database: Database) -> None:
    heard: list[str] = []
    listener = PgNotices(database, heard.append)
    publisher = PgNotices(database, lambda _topic: None)
    listener.start()
    try:
        assert await listener.wait_connected(10)
        topics = [f"response:resp_{n}" for n in range(40)]
        publisher.publish(topics[0])
        await asyncio.sleep(0)  # its send has begun and waits on the database
        for topic in [*topics[1:], topics[1]]:  # these wait for it, then go together, each once
            publisher.publish(topic)
        await _until(lambda: set(heard) >= set(topics))
        assert sorted(heard) == sorted(topics)
    finally:
        await publisher.aclose()
        await listener.aclose()


async def test_a_topic_published_after_a_send_finished_goes_in_a_new_one(database: Database) -> None:
    heard: list[str] = []
    listener = PgNotices(database, heard.append)
    publisher = PgNotices(database, lambda _topic: None)
    listener.start()
    try:
        assert await listener.wait_connected(10)
        publisher.publish("response:first")
        await _until(lambda: "response:first" in heard)
        publisher.publish("response:second")
        await _until(lambda: "response:second" in heard)
        assert heard == ["response:first", "response:second"]
    finally:
        await publisher.aclose()
        await listener.aclose()


def test_a_topic_too_long_for_notify_is_refused() -> None:
    notices = PgNotices(Database("postgresql+asyncpg://postgres@127.0.0.1:5432/test"), lambda _topic: None)
    with pytest.raises(ValueError, match="too long"):
        notices.publish("response:" + "x" * 8000)
