"""Which budget store ``metering.budget_store: auto`` picks: Redis when there is one,
else the database when it is PostgreSQL (several processes may share it), else memory."""

from __future__ import annotations

import pytest

from switchyard.gateway.budget_store import store_kind


@pytest.mark.parametrize(("choice", "redis_url", "dialect", "expected"), [
    ("auto", "redis://127.0.0.1:6379/0", "sqlite", "redis"),
    ("auto", "redis://127.0.0.1:6379/0", "postgresql", "redis"),
    ("auto", None, "postgresql", "database"),
    ("auto", None, "sqlite", "memory"),
    ("memory", None, "postgresql", "memory"),
    ("database", "redis://127.0.0.1:6379/0", "sqlite", "database"),
])
def test_auto_choice(choice: str, redis_url: str | None, dialect: str, expected: str) -> None:
    assert store_kind(choice, redis_url=redis_url, dialect=dialect) == expected
