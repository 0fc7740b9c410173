"""The organization's users and their project memberships. Switchyard has no login:
users are records an admin keeps (who owns which project), as in OpenAI's API."""

from __future__ import annotations

import builtins
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from switchyard.store.database import Database
from switchyard.store.ids import new_id
from switchyard.store.models import utcnow
from switchyard.store.rows import Rows
from switchyard.store.tenancy_models import OrgUser, ProjectUser


@dataclass(frozen=True, slots=True)
class UserRecord:
    id: str
    email: str
    name: str | None
    role: str
    added_at: datetime


@dataclass(frozen=True, slots=True)
class MemberRecord:
    user: UserRecord
    project_id: str
    role: str
    added_at: datetime


def _user(row: OrgUser) -> UserRecord:
    return UserRecord(row.id, row.email, row.name, row.role, row.added_at)


class UserRepository:
    def __init__(self, db: Database) -> None:
        self._db = db
        self._rows = Rows(db, OrgUser, _user)

    async def create(self, email: str, name: str | None, role: str) -> UserRecord | None:
        """None when a user with this email exists already."""
        row = OrgUser(id=new_id("user-"), email=email, name=name, role=role, added_at=utcnow())
        try:
            async with self._db.session() as session:
                session.add(row)
        except IntegrityError:
            return None
        return _user(row)

    async def get(self, user_id: str) -> UserRecord | None:
        return await self._rows.get(user_id)

    async def by_email(self, email: str) -> UserRecord | None:
        return await self._rows.first(select(OrgUser).where(OrgUser.email == email))

    async def list(self, emails: list[str] | None = None) -> list[UserRecord]:
        query = select(OrgUser)
        if emails:
            query = query.where(OrgUser.email.in_(emails))
        return await self._rows.all(query.order_by(OrgUser.added_at, OrgUser.id))

    async def set_role(self, user_id: str, role: str) -> UserRecord | None:
        return await self._rows.change(user_id, {"role": role})

    async def delete(self, user_id: str) -> bool:
        async with self._db.session() as session:
            await session.execute(delete(ProjectUser).where(ProjectUser.user_id == user_id))
            result = await session.execute(delete(OrgUser).where(OrgUser.id == user_id))
            return bool(result.rowcount)  # type: ignore[attr-defined]

    async def add_member(self, project_id: str, user_id: str, role: str) -> MemberRecord | None:
        """None if the user does not exist or is a member already."""
        async with self._db.session() as session:
            user = await session.get(OrgUser, user_id)
            if user is None or await session.get(ProjectUser, (project_id, user_id)) is not None:
                return None
            row = ProjectUser(project_id=project_id, user_id=user_id, role=role, added_at=utcnow())
            session.add(row)
            return MemberRecord(_user(user), project_id, role, row.added_at)

    async def member(self, project_id: str, user_id: str) -> MemberRecord | None:
        query = (select(ProjectUser, OrgUser).join(OrgUser, OrgUser.id == ProjectUser.user_id)
                 .where(ProjectUser.project_id == project_id, ProjectUser.user_id == user_id))
        async with self._db.session(read_only=True) as session:
            found = (await session.execute(query)).first()
            if found is None:
                return None
            link, user = found
            return MemberRecord(_user(user), project_id, link.role, link.added_at)

    async def members(self, project_id: str) -> builtins.list[MemberRecord]:
        query = (select(ProjectUser, OrgUser).join(OrgUser, OrgUser.id == ProjectUser.user_id)
                 .where(ProjectUser.project_id == project_id)
                 .order_by(ProjectUser.added_at, ProjectUser.user_id))
        async with self._db.session(read_only=True) as session:
            return [MemberRecord(_user(user), project_id, link.role, link.added_at)
                    for link, user in (await session.execute(query)).all()]

    async def set_member_role(self, project_id: str, user_id: str, role: str) -> MemberRecord | None:
        async with self._db.session() as session:
            link = await session.get(ProjectUser, (project_id, user_id))
            if link is None:
                return None
            link.role = role
        return await self.member(project_id, user_id)

    async def remove_member(self, project_id: str, user_id: str) -> bool:
        return await self._rows.delete(delete(ProjectUser).where(ProjectUser.project_id == project_id,
                                                                 ProjectUser.user_id == user_id))
