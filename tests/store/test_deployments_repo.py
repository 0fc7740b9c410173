"""Deployments stored through the admin API, on SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses

import pytest

from switchyard.store import Database
from switchyard.store.deployments import DeploymentRepository, StoredDeployment


def _record(ident: str, **changes: object) -> StoredDeployment:
    base = StoredDeployment(id=ident, model="gpt", provider="openai", upstream_model="gpt-up",
                            base_url="http://up/v1", credentials="sealed-blob", key_hint="sk-...1234",
                            weight=2.5, priority=1, max_concurrency=8, rpm=100, tpm=10_000_000_000,
                            timeout=30.0, created_at=1_700_000_000, updated_us=1_700_000_000_000_000)
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


async def test_create_read_update_delete(database: Database) -> None:
    repo = DeploymentRepository(database)
    first = await repo.create(_record("dep_b"))
    await repo.create(_record("dep_a", model="claude", provider="anthropic", base_url=None, credentials=None,
                              key_hint=None, max_concurrency=None, rpm=None, tpm=None, timeout=None))
    assert await repo.get("dep_b") == first
    assert [r.id for r in await repo.all()] == ["dep_a", "dep_b"]

    updated = await repo.update("dep_b", {"weight": 1.0, "credentials": "resealed", "rpm": None})
    assert updated is not None
    assert (updated.weight, updated.credentials, updated.rpm) == (1.0, "resealed", None)
    assert updated.updated_us > first.updated_us  # other processes see the change
    assert await repo.get("dep_b") == updated

    assert await repo.update("dep_nope", {"weight": 3.0}) is None
    with pytest.raises(ValueError, match="id"):
        await repo.update("dep_b", {"id": "dep_c"})
    assert await repo.delete("dep_b") is True
    assert await repo.delete("dep_b") is False
    assert [r.id for r in await repo.all()] == ["dep_a"]
