"""Projects (every stored object is scoped by one) and their per-model rate limits."""

from __future__ import annotations

import builtins
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from switchyard.store.database import Database
from switchyard.store.ids import new_id
from switchyard.store.keys import from_micro, to_micro
from switchyard.store.models import utcnow
from switchyard.store.rows import Rows
from switchyard.store.tenancy_models import Project, ProjectRateLimit

DEFAULT_PROJECT = "proj_default"
DEFAULT_PROJECT_NAME = "Default project"


@dataclass(frozen=True, slots=True)
class ProjectRecord:
    id: str
    name: str
    created_at: datetime
    archived_at: datetime | None
    external_key_id: str | None = None
    rpm_limit: int | None = None
    tpm_limit: int | None = None
    concurrency_limit: int | None = None
    budget_usd: Decimal | None = None
    budget_interval: str | None = None
    model_mode: str | None = None  # "allow_list" / "deny_list"; None: every model
    model_ids: tuple[str, ...] = ()
    moderation_mode: str | None = None  # the guardrail: "flag" / "block" / "log"; None: off
    moderation_model: str | None = None
    moderation_categories: tuple[str, ...] | None = None
    moderation_output_mode: str | None = None  # the guardrail on model output; None: output not screened

    @property
    def archived(self) -> bool:
        return self.archived_at is not None


@dataclass(frozen=True, slots=True)
class RateLimitRecord:
    project_id: str
    model: str
    rpm_limit: int | None = None
    tpm_limit: int | None = None
    concurrency_limit: int | None = None


PROJECT_FIELDS = frozenset({"name", "external_key_id", "rpm_limit", "tpm_limit", "concurrency_limit",
                            "budget_usd", "budget_interval", "model_mode", "model_ids",
                            "moderation_mode", "moderation_model", "moderation_categories",
                            "moderation_output_mode"})
RATE_LIMIT_FIELDS = frozenset({"rpm_limit", "tpm_limit", "concurrency_limit"})


def _record(row: Project) -> ProjectRecord:
    return ProjectRecord(
        id=row.id, name=row.name, created_at=row.created_at, archived_at=row.archived_at,
        external_key_id=row.external_key_id, rpm_limit=row.rpm_limit, tpm_limit=row.tpm_limit,
        concurrency_limit=row.concurrency_limit, budget_usd=from_micro(row.budget_micro_usd),
        budget_interval=row.budget_interval, model_mode=row.model_mode,
        model_ids=tuple(row.model_ids or ()), moderation_mode=row.moderation_mode,
        moderation_model=row.moderation_model,
        moderation_categories=None if row.moderation_categories is None else tuple(row.moderation_categories),
        moderation_output_mode=row.moderation_output_mode,
    )


def _rate_limit(row: ProjectRateLimit) -> RateLimitRecord:
    return RateLimitRecord(row.project_id, row.model, row.rpm_limit, row.tpm_limit, row.concurrency_limit)


def _columns(changes: Mapping[str, Any], allowed: frozenset[str]) -> dict[str, Any]:
    unknown = set(changes) - allowed
    if unknown:
        raise ValueError(f"unknown fields: {sorted(unknown)}")
    columns = dict(changes)
    if "budget_usd" in columns:
        columns["budget_micro_usd"] = to_micro(columns.pop("budget_usd"))
    if "model_ids" in columns and columns["model_ids"] is not None:
        columns["model_ids"] = list(columns["model_ids"])
    if columns.get("moderation_categories") is not None:
        columns["moderation_categories"] = list(columns["moderation_categories"])
    return columns


class ProjectRepository:
    def __init__(self, db: Database) -> None:
        self._db = db
        self._rows = Rows(db, Project, _record)

    async def create(self, name: str, external_key_id: str | None = None) -> ProjectRecord:
        row = Project(id=new_id("proj_"), name=name, created_at=utcnow(), external_key_id=external_key_id)
        async with self._db.session() as session:
            session.add(row)
        return _record(row)

    async def ensure_default(self) -> None:
        """The default project exists (the migration makes it; this repairs a deletion)."""
        if await self.get(DEFAULT_PROJECT) is not None:
            return
        try:
            async with self._db.session() as session:
                session.add(Project(id=DEFAULT_PROJECT, name=DEFAULT_PROJECT_NAME, created_at=utcnow()))
        except IntegrityError:
            pass  # another process made it first

    async def get(self, project_id: str) -> ProjectRecord | None:
        return await self._rows.get(project_id)

    async def list(self, include_archived: bool = False) -> list[ProjectRecord]:
        query = select(Project)
        if not include_archived:
            query = query.where(Project.archived_at.is_(None))
        return await self._rows.all(query.order_by(Project.created_at, Project.id))

    async def update(self, project_id: str, changes: Mapping[str, Any]) -> ProjectRecord | None:
        """Sets the given fields (``PROJECT_FIELDS``); None if there is no such project."""
        return await self._rows.change(project_id, _columns(changes, PROJECT_FIELDS))

    async def archive(self, project_id: str) -> ProjectRecord | None:
        async with self._db.session() as session:
            row = await session.get(Project, project_id)
            if row is None:
                return None
            if row.archived_at is None:
                row.archived_at = utcnow()
            await session.flush()
            return _record(row)

    async def rate_limits(self, project_id: str) -> builtins.list[RateLimitRecord]:
        query = select(ProjectRateLimit).where(ProjectRateLimit.project_id == project_id)
        async with self._db.session(read_only=True) as session:
            return [_rate_limit(row) for row in await session.scalars(query.order_by(ProjectRateLimit.model))]

    async def set_rate_limit(self, project_id: str, model: str, changes: Mapping[str, Any]) -> RateLimitRecord:
        columns = _columns(changes, RATE_LIMIT_FIELDS)
        async with self._db.session() as session:
            row = await session.get(ProjectRateLimit, (project_id, model))
            if row is None:
                row = ProjectRateLimit(project_id=project_id, model=model)
                session.add(row)
            for column, value in columns.items():
                setattr(row, column, value)
            await session.flush()
            return _rate_limit(row)
