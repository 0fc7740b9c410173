"""Notices between the processes that share one PostgreSQL database, on its own
LISTEN/NOTIFY: a process publishes a topic (``response:<id>``: that response has new
events or a new status) and every process listening hears it, so a reader following
work that runs elsewhere wakes at once instead of polling.

A notice carries no data, only "look again": readers re-read the store, so a notice lost
while the listening connection was down costs latency (until the reader's fallback poll),
never correctness. SQLite is one process's database and has no notices."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

import asyncpg
from sqlalchemy import Text, bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY

from switchyard.store.database import Database

log = logging.getLogger(__name__)

CHANNEL = "switchyard_live"
RECONNECT_SECONDS = 1.0
MAX_TOPIC = 7000  # NOTIFY payloads stop at 8000 bytes
SEND = text("SELECT pg_notify(:channel, topic) FROM unnest(:topics) AS topic").bindparams(
    bindparam("channel", type_=Text), bindparam("topics", type_=ARRAY(Text)))


class PgNotices:
    """One listening connection per process (its own, outside the pool), reconnected
    when it drops; publishing goes through the pool. Topics published while a send is
    under way wait for it and go together in the next one statement, each once (a notice
    only says "look again"), so a busy process does not spend a transaction per notice."""

    def __init__(self, db: Database, on_notice: Callable[[str], None]) -> None:
        if db.dialect != "postgresql":
            raise ValueError("notices need PostgreSQL")
        self._db = db
        self._on_notice = on_notice
        self._task: asyncio.Task[None] | None = None
        self._connected = asyncio.Event()
        self._topics: dict[str, None] = {}  # to send, in the order published
        self._sender: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._listen(), name="pg-notices")

    async def wait_connected(self, timeout: float) -> bool:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._connected.wait(), timeout)
        return self._connected.is_set()

    def publish(self, topic: str) -> None:
        """Sends ``topic`` to every listening process, without waiting for it to go."""
        if len(topic.encode()) > MAX_TOPIC:
            raise ValueError("notice topic too long")
        self._topics[topic] = None
        if self._sender is None:
            self._sender = asyncio.create_task(self._send_all(), name="pg-notices-send")

    async def _send_all(self) -> None:
        try:
            while self._topics:
                topics, self._topics = list(self._topics), {}
                await self._send(topics)
        finally:
            self._sender = None

    async def _send(self, topics: list[str]) -> None:
        try:
            async with self._db.session() as session:
                await session.execute(SEND, {"channel": CHANNEL, "topics": topics})
        except Exception:
            log.warning("publishing the notices %r failed; readers fall back to polling", topics, exc_info=True)

    async def _listen(self) -> None:
        url = self._db.url.set(drivername="postgresql").render_as_string(hide_password=False)
        while True:
            connection: Any = None
            try:
                connection = await asyncpg.connect(url)
                closed = asyncio.Event()
                connection.add_termination_listener(lambda _connection, done=closed: done.set())
                await connection.add_listener(CHANNEL, self._heard)
                self._connected.set()
                await closed.wait()
                log.warning("the notices connection closed; reconnecting")
            except asyncio.CancelledError:
                raise
            except Exception:
                log.warning("the notices connection failed; retrying in %.0f s", RECONNECT_SECONDS, exc_info=True)
            finally:
                self._connected.clear()
                if connection is not None and not connection.is_closed():
                    with contextlib.suppress(Exception):
                        await asyncio.shield(connection.close(timeout=2))
            await asyncio.sleep(RECONNECT_SECONDS)

    def _heard(self, _connection: Any, _pid: int, _channel: str, payload: str) -> None:
        try:
            self._on_notice(payload)
        except Exception:
            log.exception("handling the notice %r failed", payload)

    async def aclose(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if (sender := self._sender) is not None:
            with contextlib.suppress(Exception):
                await sender
