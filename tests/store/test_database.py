from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import text

from switchyard.store import Database


async def test_ping(database: Database) -> None:
    assert await database.ping() is True
    await database.aclose()
    assert await database.ping() is False


async def test_ping_unreachable_server() -> None:
    db = Database("postgresql+asyncpg://postgres@127.0.0.1:1/nothing")
    await db.start(migrate_to_head=False)
    try:
        assert await db.ping(timeout=5) is False
    finally:
        await db.aclose()


async def test_session_before_start_is_an_error() -> None:
    db = Database("sqlite+aiosqlite://")
    with pytest.raises(RuntimeError):
        async with db.session():
            pass


async def test_session_commits_or_rolls_back(database: Database) -> None:
    insert = text("INSERT INTO alembic_version (version_num) VALUES (:v)")
    count = text("SELECT count(*) FROM alembic_version")
    with pytest.raises(ZeroDivisionError):
        async with database.session() as session:
            await session.execute(insert, {"v": "rolled-back"})
            raise ZeroDivisionError
    async with database.session() as session:
        assert await session.scalar(count) == 1
        await session.execute(insert, {"v": "committed"})
    async with database.session() as session:
        assert await session.scalar(count) == 2


async def test_sqlite_file_wal_and_foreign_keys(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "dir" / "switchyard.db"
    db = Database(f"sqlite+aiosqlite:///{path}")
    await db.start()
    try:
        assert path.exists()
        async with db.session() as session:
            assert (await session.scalar(text("PRAGMA foreign_keys"))) == 1
        async with db.engine.connect() as conn:  # journal_mode cannot be read inside BEGIN
            raw = await conn.get_raw_connection()
            cursor = await raw.driver_connection.execute("PRAGMA journal_mode")
            assert (await cursor.fetchone())[0] == "wal"
    finally:
        await db.aclose()


async def test_sqlite_in_memory() -> None:
    db = Database("sqlite+aiosqlite://")
    await db.start()
    try:
        async with db.session() as session:
            assert await session.scalar(text("SELECT count(*) FROM api_keys")) == 0
    finally:
        await db.aclose()


async def test_postgres_connections_killed_while_idle_are_replaced() -> None:
    """A pooled connection that the server dropped (a restart, an idle timeout) is found
    dead at checkout and replaced: the next statement still answers."""
    import asyncpg
    from sqlalchemy import make_url

    from tests.pg import fresh_postgres_url

    async with fresh_postgres_url() as url:
        db = Database(url, ping_idle_seconds=0.05)
        await db.start()
        try:
            async with db.reading() as conn:
                first = await conn.scalar(text("SELECT pg_backend_pid()"))
            async with db.reading() as conn:  # back from the pool at once: the same connection
                assert await conn.scalar(text("SELECT pg_backend_pid()")) == first
            killer = await asyncpg.connect(make_url(url).set(drivername="postgresql").render_as_string(False))
            try:
                assert await killer.fetchval("SELECT pg_terminate_backend($1)", first) is True
            finally:
                await killer.close()
            await asyncio.sleep(0.2)
            async with db.reading() as conn:
                assert await conn.scalar(text("SELECT pg_backend_pid()")) not in (None, first)
        finally:
            await db.aclose()


async def test_postgres_reading_settings_hold_for_the_block_only() -> None:
    """``reading(settings)``: the settings apply to the block's statements, in one read-only
    transaction, and neither they nor the transaction outlive the block, even when it fails."""
    import asyncpg
    from sqlalchemy import make_url

    from tests.pg import fresh_postgres_url

    async with fresh_postgres_url() as url:
        db = Database(url)
        await db.start(migrate_to_head=False)
        try:
            settings = {"work_mem": "7MB", "application_name": "it's a test"}
            async with db.reading(settings) as conn:
                assert await conn.scalar(text("SHOW work_mem")) == "7MB"
                assert await conn.scalar(text("SHOW application_name")) == "it's a test"
                assert await conn.scalar(text("SHOW transaction_read_only")) == "on"
                pid = await conn.scalar(text("SELECT pg_backend_pid()"))
            with pytest.raises(ZeroDivisionError):
                async with db.reading(settings) as conn:
                    assert await conn.scalar(text("SELECT pg_backend_pid()")) == pid
                    raise ZeroDivisionError
            async with db.session() as session:  # the same connection: no transaction left open, defaults back
                assert await session.scalar(text("SELECT pg_backend_pid()")) == pid
                assert await session.scalar(text("SHOW work_mem")) != "7MB"
                assert await session.scalar(text("SHOW transaction_read_only")) == "off"
                await session.execute(text("CREATE TABLE written_after (id int)"))
            with pytest.raises(ZeroDivisionError):  # the connection dies inside: the block's error still wins
                async with db.reading(settings) as conn:
                    killer = await asyncpg.connect(make_url(url).set(drivername="postgresql").render_as_string(False))
                    try:
                        assert await killer.fetchval("SELECT pg_terminate_backend($1)", pid) is True
                    finally:
                        await killer.close()
                    raise ZeroDivisionError
            async with db.reading(settings) as conn:  # a fresh connection, not the dead one
                assert await conn.scalar(text("SELECT pg_backend_pid()")) != pid
            with pytest.raises(ValueError, match="not a setting name"):
                async with db.reading({"work_mem; DROP TABLE written_after": "1MB"}):
                    pass
        finally:
            await db.aclose()
