"""Persistence: SQLite by default, PostgreSQL for scale; nothing outside ``store/``
writes SQL. Callers use a ``Database`` (one per process, ``await db.start()``
migrates to head) and repositories that return frozen dataclasses, never ORM rows.

Adding a table (e.g. for Responses):

1. Add the ORM class to ``models.py`` (or a new ``models_<feature>.py`` imported
   at the bottom of ``models.py`` so that ``Base.metadata`` sees it). Use
   ``UTCDateTime`` for timestamps, ``String(64)`` ids made by ``ids.new_id``, and
   an ``owner_id`` column on every tenant-owned table.
2. Write the next migration by hand: ``migrations/versions/0002_<name>.py`` with
   ``revision = "0002"`` and ``down_revision = "0001"``, constraint and index names
   spelled out as the naming convention in ``models.py`` makes them
   (``pk_<table>``, ``ix_<table>_<cols>``, ``uq_<table>_<cols>``,
   ``fk_<table>_<col>_<referred>``). To get a draft, point ``SWITCHYARD_DATABASE_URL``
   at a scratch database and run
   ``alembic -c src/switchyard/store/migrations/alembic.ini upgrade head`` then
   ``... revision --autogenerate --rev-id 0002 -m "<name>"``, and review it.
   On SQLite alter existing tables inside ``op.batch_alter_table``.
3. Add a repository module (``store/<feature>.py``) taking the ``Database``; open
   ``async with db.session() as s:`` per operation (commits on exit) and filter
   every query by ``owner_id``.
4. ``tests/store/test_migrations.py`` checks that models and migrations agree, on
   SQLite and PostgreSQL; add repository tests using the ``database`` fixture.
"""

from switchyard.store.database import Database
from switchyard.store.ids import new_id
from switchyard.store.keys import ApiKeyRecord, ApiKeyRepository
from switchyard.store.ledger import LedgerTotals, RequestLog

__all__ = [
    "ApiKeyRecord",
    "ApiKeyRepository",
    "Database",
    "LedgerTotals",
    "RequestLog",
    "new_id",
]
