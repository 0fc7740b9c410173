from __future__ import annotations

import asyncio

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection

from switchyard.store import ApiKeyRepository, Database
from switchyard.store import migrate as migrations
from switchyard.store.models import Base
from switchyard.store.vector_store_models import alembic_include_name


def _tables(conn: Connection) -> set[str]:
    return set(inspect(conn).get_table_names())


async def _snapshot(db: Database) -> tuple[str | None, set[str]]:
    async with db.engine.connect() as conn:
        return (
            await conn.run_sync(migrations.current_revision),
            await conn.run_sync(_tables),
        )


async def test_migrate_from_empty(database_url: str) -> None:
    db = Database(database_url)
    await db.start(migrate_to_head=False)
    try:
        assert await _snapshot(db) == (None, set())
        await migrations.upgrade(db.engine)
        revision, tables = await _snapshot(db)
        assert revision == migrations.head_revision()
        expected = {"alembic_version", *Base.metadata.tables}
        assert expected <= tables, expected - tables
        assert {"api_keys", "responses", "conversations", "files", "uploads"} <= tables
    finally:
        await db.aclose()


async def test_migrate_twice_is_a_noop(database_url: str) -> None:
    first = Database(database_url)
    await first.start()
    _, secret = await ApiKeyRepository(first).create("owner", "kept")
    before = await _snapshot(first)
    await first.aclose()

    second = Database(database_url)
    await second.start()
    try:
        assert await _snapshot(second) == before
        assert await ApiKeyRepository(second).find_by_secret(secret) is not None
    finally:
        await second.aclose()


async def test_concurrent_starts_migrate_once(database_url: str) -> None:
    dbs = [Database(database_url) for _ in range(4)]
    await asyncio.gather(*(db.start() for db in dbs))
    try:
        for db in dbs:
            assert (await _snapshot(db))[0] == migrations.head_revision()
        async with dbs[0].session() as session:
            assert await session.scalar(text("SELECT count(*) FROM alembic_version")) == 1
    finally:
        for db in dbs:
            await db.aclose()


async def test_downgrade_to_base_and_back(database: Database) -> None:
    await migrations.downgrade(database.engine, "base")
    assert await _snapshot(database) == (None, {"alembic_version"})
    await migrations.upgrade(database.engine)
    assert (await _snapshot(database))[0] == migrations.head_revision()


def _diff(conn: Connection) -> list[object]:
    context = MigrationContext.configure(conn, opts={"compare_type": True, "include_name": alembic_include_name})
    return compare_metadata(context, Base.metadata)


async def test_models_match_migrations(database: Database) -> None:
    async with database.engine.connect() as conn:
        assert await conn.run_sync(_diff) == []


async def test_downgrade_0002_keeps_0001_data(database: Database) -> None:
    _, secret = await ApiKeyRepository(database).create("owner", "kept")
    await migrations.downgrade(database.engine, "0001")
    assert await _snapshot(database) == ("0001", {"alembic_version", "api_keys", "request_log"})
    await migrations.upgrade(database.engine)
    assert (await _snapshot(database))[0] == migrations.head_revision()
    assert await ApiKeyRepository(database).find_by_secret(secret) is not None
