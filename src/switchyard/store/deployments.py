"""Deployments added through the admin API. Credentials arrive and leave sealed:
this repository never sees them in the clear."""

from __future__ import annotations

import time
from dataclasses import dataclass, fields
from typing import Any

from sqlalchemy import delete, select

from switchyard.store.database import Database
from switchyard.store.deployment_models import StoredDeploymentRow


@dataclass(frozen=True, slots=True)
class StoredDeployment:
    id: str
    model: str
    provider: str
    upstream_model: str
    base_url: str | None
    credentials: str | None  # sealed {"api_key": ..., "headers": {...}}
    key_hint: str | None
    weight: float
    priority: int
    max_concurrency: int | None
    rpm: int | None
    tpm: int | None
    timeout: float | None
    created_at: int
    updated_us: int
    breaker_failures: int | None = None  # the breaker's settings (None: the routing's)
    breaker_cooldown: float | None = None
    breaker_error_rate: float | None = None
    breaker_window: float | None = None
    breaker_min_calls: int | None = None


FIELDS = tuple(f.name for f in fields(StoredDeployment))
MUTABLE = frozenset(FIELDS) - {"id", "created_at", "updated_us"}


def _record(row: StoredDeploymentRow) -> StoredDeployment:
    return StoredDeployment(**{name: getattr(row, name) for name in FIELDS})


class DeploymentRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def create(self, record: StoredDeployment) -> StoredDeployment:
        async with self._db.session() as session:
            session.add(StoredDeploymentRow(**{name: getattr(record, name) for name in FIELDS}))
        return record

    async def get(self, deployment_id: str) -> StoredDeployment | None:
        async with self._db.session(read_only=True) as session:
            row = await session.get(StoredDeploymentRow, deployment_id)
            return _record(row) if row is not None else None

    async def all(self) -> list[StoredDeployment]:
        async with self._db.session(read_only=True) as session:
            rows = (await session.scalars(select(StoredDeploymentRow).order_by(StoredDeploymentRow.id))).all()
            return [_record(row) for row in rows]

    async def update(self, deployment_id: str, changes: dict[str, Any]) -> StoredDeployment | None:
        unknown = set(changes) - MUTABLE
        if unknown:
            raise ValueError(f"not updatable: {sorted(unknown)}")
        async with self._db.session() as session:
            row = await session.get(StoredDeploymentRow, deployment_id)
            if row is None:
                return None
            for name, value in changes.items():
                setattr(row, name, value)
            row.updated_us = max(time.time_ns() // 1000, row.updated_us + 1)
            await session.flush()
            return _record(row)

    async def delete(self, deployment_id: str) -> bool:
        async with self._db.session() as session:
            result = await session.execute(
                delete(StoredDeploymentRow).where(StoredDeploymentRow.id == deployment_id))
            return bool(getattr(result, "rowcount", 0))
