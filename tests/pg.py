"""Throwaway PostgreSQL databases for tests (server: ``SWITCHYARD_TEST_PG_URL``,
default the local trust-auth server's ``test`` database)."""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
from sqlalchemy import make_url

ADMIN_URL = os.environ.get(
    "SWITCHYARD_TEST_PG_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)


def _dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@asynccontextmanager
async def fresh_postgres_url() -> AsyncIterator[str]:
    """Yields a ``postgresql+asyncpg://`` URL to a new, empty database, dropped on exit
    (with ``FORCE``, so connections left open by the test do not keep it alive)."""
    name = f"sy_test_{secrets.token_hex(8)}"
    admin = await asyncpg.connect(_dsn(ADMIN_URL))
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    try:
        yield make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        admin = await asyncpg.connect(_dsn(ADMIN_URL))
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()
