"""PgQueuer's tables, types, trigger and notify function, on PostgreSQL only: the job
queue that runs durable work there (``jobs/queue_runner.py``). SQLite keeps the lease
runner over each kind's own rows and gets nothing here.

The DDL is the one the installed PgQueuer release declares (its ``install`` query), run
by this migration so that Alembic owns the schema; a PgQueuer upgrade that changes its
schema comes with a new revision.

Revision ID: 0021
Revises: 0019
Create Date: 2026-11-30
"""

from __future__ import annotations

from alembic import op
from sqlalchemy.engine import Connection
from sqlalchemy.util import await_only

revision: str = "0021"
down_revision: str | None = "0019"
branch_labels: str | None = None
depends_on: str | None = None


def _run_script(bind: Connection, script: str) -> None:
    """Many statements (with ``$$`` function bodies) in one go: asyncpg runs a script
    without parameters as a simple query, inside the migration's transaction."""
    driver = bind.connection.driver_connection
    if bind.dialect.driver == "asyncpg":
        await_only(driver.execute(script))  # type: ignore[union-attr]
    else:
        bind.exec_driver_sql(script)


def _builder():  # type: ignore[no-untyped-def]
    from pgqueuer.adapters.persistence.qb import QueryBuilderEnvironment

    return QueryBuilderEnvironment()


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        _run_script(bind, _builder().build_install_query())


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        _run_script(bind, _builder().build_uninstall_query())
