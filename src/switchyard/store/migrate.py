"""Run the Alembic migrations from code, on a connection the caller owns."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
# Any fixed 64-bit number; every Switchyard process takes this lock to migrate.
PG_MIGRATION_LOCK = 0x5377_6974_6368_7964


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic config built in code (no alembic.ini), optionally bound to ``connection``."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR).replace("%", "%%"))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    """Upgrade to ``revision`` in one transaction that holds a cross-process lock:
    a PostgreSQL advisory lock, or SQLite's write lock (``BEGIN IMMEDIATE``), so that
    processes starting together migrate one after the other."""
    await _locked(engine, command.upgrade, revision)


async def downgrade(engine: AsyncEngine, revision: str) -> None:
    """Downgrade to ``revision`` (``"base"`` for an empty schema); for tests and operators."""
    await _locked(engine, command.downgrade, revision)


async def _locked(
    engine: AsyncEngine, alembic_command: Callable[[Config, str], None], revision: str
) -> None:
    async with engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            await conn.execution_options(sqlite_begin="BEGIN IMMEDIATE")
        async with conn.begin():
            if conn.dialect.name == "postgresql":
                await conn.execute(
                    text("SELECT pg_advisory_xact_lock(:key)"), {"key": PG_MIGRATION_LOCK}
                )
            await conn.run_sync(
                lambda sync_conn: alembic_command(alembic_config(sync_conn), revision)
            )
