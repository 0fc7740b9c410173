"""A project's service accounts: the owners of its API keys (OpenAI's model)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select

from switchyard.store.database import Database
from switchyard.store.ids import new_id
from switchyard.store.models import utcnow
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

    async def create(self, project_id: str, name: str, role: str = "member") -> ServiceAccountRecord:
        row = ServiceAccount(id=new_id("svc_acct_"), project_id=project_id, name=name, role=role,
                             created_at=utcnow())
        async with self._db.session() as session:
            session.add(row)
        return _record(row)

    async def get(self, project_id: str, account_id: str) -> ServiceAccountRecord | None:
        query = select(ServiceAccount).where(ServiceAccount.id == account_id,
                                             ServiceAccount.project_id == project_id)
        async with self._db.session(read_only=True) as session:
            row = await session.scalar(query)
            return None if row is None else _record(row)

    async def list(self, project_id: str) -> list[ServiceAccountRecord]:
        query = (select(ServiceAccount).where(ServiceAccount.project_id == project_id)
                 .order_by(ServiceAccount.created_at, ServiceAccount.id))
        async with self._db.session(read_only=True) as session:
            return [_record(row) for row in await session.scalars(query)]

    async def update(self, project_id: str, account_id: str, name: str, role: str
                     ) -> ServiceAccountRecord | None:
        async with self._db.session() as session:
            row = await session.scalar(select(ServiceAccount).where(
                ServiceAccount.id == account_id, ServiceAccount.project_id == project_id))
            if row is None:
                return None
            row.name, row.role = name, role
            await session.flush()
            return _record(row)

    async def delete(self, project_id: str, account_id: str) -> bool:
        statement = delete(ServiceAccount).where(ServiceAccount.id == account_id,
                                                 ServiceAccount.project_id == project_id)
        async with self._db.session() as session:
            result = await session.execute(statement)
            return bool(result.rowcount)  # type: ignore[attr-defined]
