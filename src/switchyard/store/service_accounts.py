"""A project's service accounts: the owners of its API keys (OpenAI's model)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, delete, select

from switchyard.store.database import Database
from switchyard.store.ids import new_id
from switchyard.store.models import utcnow
from switchyard.store.rows import Rows
from switchyard.store.tenancy_models import ServiceAccount


@dataclass(frozen=True, slots=True)
class ServiceAccountRecord:
    id: str
    project_id: str
    name: str
    role: str
    created_at: datetime


def _record(row: ServiceAccount) -> ServiceAccountRecord:
    return ServiceAccountRecord(row.id, row.project_id, row.name, row.role, row.created_at)


class ServiceAccountRepository:
    def __init__(self, db: Database) -> None:
        self._db = db
        self._rows = Rows(db, ServiceAccount, _record)

    async def create(self, project_id: str, name: str, role: str = "member") -> ServiceAccountRecord:
        row = ServiceAccount(id=new_id("svc_acct_"), project_id=project_id, name=name, role=role,
                             created_at=utcnow())
        async with self._db.session() as session:
            session.add(row)
        return _record(row)

    async def get(self, project_id: str, account_id: str) -> ServiceAccountRecord | None:
        return await self._rows.first(_one(project_id, account_id))

    async def list(self, project_id: str) -> list[ServiceAccountRecord]:
        return await self._rows.all(select(ServiceAccount).where(ServiceAccount.project_id == project_id)
                                    .order_by(ServiceAccount.created_at, ServiceAccount.id))

    async def update(self, project_id: str, account_id: str, name: str, role: str
                     ) -> ServiceAccountRecord | None:
        return await self._rows.change(_one(project_id, account_id), {"name": name, "role": role})

    async def delete(self, project_id: str, account_id: str) -> bool:
        return await self._rows.delete(delete(ServiceAccount).where(ServiceAccount.id == account_id,
                                                                    ServiceAccount.project_id == project_id))


def _one(project_id: str, account_id: str) -> Select[Any]:
    return select(ServiceAccount).where(ServiceAccount.id == account_id, ServiceAccount.project_id == project_id)
