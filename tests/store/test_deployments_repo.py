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


async def test_breaker_settings_are_stored_and_cleared(database: Database) -> None:
    repo = DeploymentRepository(database)
    created = await repo.create(_record("dep_brk", breaker_failures=0, breaker_cooldown=1.5,
                                        breaker_error_rate=0.25, breaker_window=30.0, breaker_min_calls=4))
    stored = await repo.get("dep_brk")
    assert stored == created
    assert stored is not None and (stored.breaker_failures, stored.breaker_cooldown, stored.breaker_error_rate,
                                   stored.breaker_window, stored.breaker_min_calls) == (0, 1.5, 0.25, 30.0, 4)
    cleared = await repo.update("dep_brk", {"breaker_error_rate": None, "breaker_min_calls": 10})
    assert cleared is not None and (cleared.breaker_error_rate, cleared.breaker_min_calls) == (None, 10)
    assert (await repo.get("dep_brk")) == cleared
    plain = await repo.create(_record("dep_plain"))
    assert (plain.breaker_failures, plain.breaker_cooldown, plain.breaker_error_rate) == (None, None, None)
