"""The database handle: engine, sessions, readiness, and migrations at start."""

from __future__ import annotations

import asyncio
import re
import sqlite3
import time
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event, exc, make_url, text
from sqlalchemy.engine import URL, Connection
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import StaticPool

from switchyard.store import migrate, pgvector_schema
from switchyard.store.pgvector_schema import PgVector
from switchyard.store.text_guard import refuse_nul

SQLITE_BUSY_TIMEOUT_MS = 15_000
WAL_SWITCH_ATTEMPTS = 40  # about 16 s of backing off in all
PING_IDLE_SECONDS = 1.0  # a PostgreSQL connection idle in the pool longer than this is pinged at checkout


class Database:
    """One per process. ``start()`` connects and migrates to head; repositories
    take the ``Database`` and open units of work with ``session()``."""

    def __init__(self, url: str, *, ping_idle_seconds: float = PING_IDLE_SECONDS) -> None:
        self.url: URL = make_url(url)
        self.ping_idle_seconds = ping_idle_seconds
        self._engine: AsyncEngine | None = None
        self._sessions: async_sessionmaker[AsyncSession] | None = None
        self._readers: async_sessionmaker[AsyncSession] | None = None
        self._statements: AsyncEngine | None = None
        self.pgvector: PgVector | None = None  # set by start() where PostgreSQL has the extension

    @property
    def dialect(self) -> str:
        return self.url.get_backend_name()  # "sqlite" | "postgresql"

    @property
    def engine(self) -> AsyncEngine:
        if self._engine is None:
            raise RuntimeError("Database.start() has not been called")
        return self._engine

    async def start(self, *, migrate_to_head: bool = True) -> None:
        if self._engine is not None:
            return
        if self.dialect == "sqlite":
            engine = _sqlite_engine(self.url)
        else:
            engine = create_async_engine(self.url)
            _ping_when_idle(engine, self.ping_idle_seconds)
        try:
            if migrate_to_head:
                await migrate.upgrade(engine)
                if self.dialect == "postgresql":
                    self.pgvector = await pgvector_schema.setup(engine)
        except BaseException:
            await engine.dispose()
            raise
        event.listen(engine.sync_engine, "before_cursor_execute", refuse_nul)
        self._engine = engine
        # A unit of work that reads and then writes must take SQLite's write lock at BEGIN:
        # a deferred transaction whose snapshot is stale cannot upgrade to writing, and
        # SQLite answers "database is locked" at once instead of waiting (busy_timeout
        # does not apply). Read-only sessions keep WAL's concurrent snapshots.
        writer = engine.execution_options(sqlite_begin="BEGIN IMMEDIATE")
        self._sessions = async_sessionmaker(writer, expire_on_commit=False)
        self._readers = async_sessionmaker(engine, expire_on_commit=False)
        # One statement needs no transaction of its own: on PostgreSQL, autocommit saves the
        # BEGIN and COMMIT round trips (asyncpg switches it without one).
        self._statements = engine if self.dialect == "sqlite" else engine.execution_options(
            isolation_level="AUTOCOMMIT")

    async def ping(self, timeout: float = 5.0) -> bool:
        """True when the database answers a trivial query within ``timeout`` seconds."""
        if self._engine is None:
            return False
        try:
            async with asyncio.timeout(timeout), self._engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        except Exception:
            return False
        return True

    @asynccontextmanager
    async def session(self, *, read_only: bool = False) -> AsyncIterator[AsyncSession]:
        """A unit of work: commits when the block exits cleanly, rolls back on error.
        ``read_only`` sessions must not write (on SQLite they do not take the write lock)."""
        makers = self._readers if read_only else self._sessions
        if makers is None:
            raise RuntimeError("Database.start() has not been called")
        async with makers() as session, session.begin():
            yield session

    @asynccontextmanager
    async def reading(self, settings: Mapping[str, str] | None = None) -> AsyncIterator[AsyncConnection]:
        """A connection for read-only Core statements on a hot path (search): none of a
        session's unit-of-work machinery, which costs more than the statement. Without
        ``settings``, on PostgreSQL each statement is its own transaction (a second one may
        see a later snapshot); with them, the block is one read-only transaction with these
        PostgreSQL settings (``SET LOCAL``, sent with BEGIN in one round trip)."""
        if self._engine is None or self._statements is None:
            raise RuntimeError("Database.start() has not been called")
        if self.dialect == "sqlite":  # the engine's own BEGIN (see _sqlite_engine)
            async with self._engine.connect() as conn, conn.begin():
                yield conn
            return
        async with self._statements.connect() as conn:
            if not settings:
                yield conn
                return
            # BEGIN and the settings in one round trip (the simple query protocol takes several
            # statements); SQLAlchemy sees an autocommit connection, so the block's statements
            # run in this transaction. Through SQLAlchemy it would be three round trips.
            # SQLAlchemy does not know of this transaction, so it must never go back to the pool
            # open: a connection whose ROLLBACK or COMMIT failed is closed instead.
            driver = (await conn.get_raw_connection()).driver_connection
            assert driver is not None
            await driver.execute(begin_with(settings))
            try:
                yield conn
            except BaseException:
                try:
                    await driver.execute("ROLLBACK")
                except BaseException:  # e.g. a query cancelled mid-flight: the block's own error wins
                    await conn.invalidate()
                raise
            try:
                await driver.execute("COMMIT")
            except BaseException:
                await conn.invalidate()
                raise

    async def aclose(self) -> None:
        if self._engine is not None:
            await self._engine.dispose()
        self._engine = None
        self._sessions = None
        self._readers = None
        self._statements = None
        self.pgvector = None


_SETTING = re.compile(r"[a-z_][a-z0-9_.]*")


def begin_with(settings: Mapping[str, str]) -> str:
    """``BEGIN READ ONLY`` and ``SET LOCAL`` of each setting, as one SQL string."""
    parts = ["BEGIN READ ONLY"]
    for name, value in settings.items():
        if not _SETTING.fullmatch(name):
            raise ValueError(f"not a setting name: {name!r}")
        parts.append(f"SET LOCAL {name} = '" + value.replace("'", "''") + "'")
    return "; ".join(parts)


def _ping_when_idle(engine: AsyncEngine, idle_seconds: float) -> None:
    """Pessimistic disconnect handling for connections that sat in the pool: one that was
    idle longer than ``idle_seconds`` is pinged at checkout, and a dead one replaced (the
    pool retries the checkout). ``pool_pre_ping`` would ping every checkout: on asyncpg
    that is three round trips (BEGIN, ``;``, ROLLBACK), about half a millisecond, on
    every statement of a busy server, whose connections were just used."""

    @event.listens_for(engine.sync_engine, "checkin")
    def _checked_in(_dbapi_connection: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine.sync_engine, "checkout")
    def _checked_out(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        idle_since = record.info.pop("idle_since", None)
        if idle_since is None or time.monotonic() - idle_since <= idle_seconds:
            return
        try:
            dbapi_connection.ping()
        except Exception as error:
            raise exc.DisconnectionError(f"a pooled connection is gone: {error}") from error


def _sqlite_engine(url: URL) -> AsyncEngine:
    database = url.database or ""
    in_memory = database in ("", ":memory:") or "mode=memory" in str(url.query)
    options: dict[str, Any] = {}
    if in_memory:  # one shared connection, or every connection sees its own empty db
        options = {"poolclass": StaticPool, "connect_args": {"check_same_thread": False}}
    elif not database.startswith("file:"):
        Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    engine = create_async_engine(url, **options)

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transactions away from the driver (it does not cover DDL) and
        # begin them ourselves below; see SQLAlchemy's pysqlite/aiosqlite notes.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        if not in_memory:
            _switch_to_wal(cursor)
            # WAL + NORMAL: no fsync per commit, still never corrupt; a power cut (not a
            # process crash) may lose the last commits. The recommended pairing for WAL.
            cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Connection) -> None:
        conn.exec_driver_sql(conn.get_execution_options().get("sqlite_begin", "BEGIN"))

    return engine


def _switch_to_wal(cursor: Any) -> None:
    """Switching a new file to WAL needs an exclusive lock that SQLite does not wait for
    (busy_timeout does not cover it): several processes opening one new file at once retry
    briefly. Once the file is in WAL (it stays so) the pragma takes no lock."""
    for attempt in range(WAL_SWITCH_ATTEMPTS):
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or attempt == WAL_SWITCH_ATTEMPTS - 1:
                raise
            time.sleep(0.02 * (attempt + 1))
