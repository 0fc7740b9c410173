"""The authenticator's grant cache over a real database: many requests that miss it at
once (it expired under load) share one read, and a write made through this process is
seen at once."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import event

from switchyard.store import Database
from switchyard.store.keys import ApiKeyRepository, KeySettings
from switchyard.store.projects import ProjectRepository
from switchyard.tenancy.directory import Directory


def count_statements(database: Database) -> list[str]:
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            seen.append(statement)

    event.listen(database.engine.sync_engine, "before_cursor_execute", record)
    return seen


async def test_concurrent_misses_share_one_read(database: Database) -> None:
    keys, projects = ApiKeyRepository(database), ProjectRepository(database)
    record, secret = await keys.create("proj_a", "k")
    directory = Directory(keys, projects, ttl=60)
    selects = count_statements(database)
    grants = await asyncio.gather(*[directory.key_grant(secret) for _ in range(50)])
    assert {g.id if g else None for g in grants} == {record.id}
    key_reads = len(selects)
    assert 1 <= key_reads <= 2  # one read of the key (and its project, if the store joins)
    projects_read = await asyncio.gather(*[directory.project_grant("proj_a") for _ in range(50)])
    assert {p.id if p else None for p in projects_read} == {"proj_a"}
    assert len(selects) - key_reads <= 2  # the project and its per-model limits, once
    before = len(selects)
    assert (await directory.key_grant(secret)) == grants[0]
    assert len(selects) == before  # cached


async def test_a_cancelled_caller_does_not_cancel_the_shared_read(database: Database) -> None:
    keys, projects = ApiKeyRepository(database), ProjectRepository(database)
    record, secret = await keys.create("proj_b", "k")
    directory = Directory(keys, projects, ttl=60)
    first = asyncio.ensure_future(directory.key_grant(secret))
    second = asyncio.ensure_future(directory.key_grant(secret))
    await asyncio.sleep(0)
    first.cancel()
    grant = await second
    assert grant is not None and grant.id == record.id


async def test_a_write_through_this_process_is_seen_at_once(database: Database) -> None:
    keys, projects = ApiKeyRepository(database), ProjectRepository(database)
    record, secret = await keys.create("proj_c", "k")
    directory = Directory(keys, projects, ttl=60)
    grant = await directory.key_grant(secret)
    assert grant is not None and grant.enabled
    await keys.update(record.id, "proj_c", "k", KeySettings(enabled=False))
    directory.invalidate()
    again = await directory.key_grant(secret)
    assert again is not None and not again.enabled
