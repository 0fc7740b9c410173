"""What the administration API and the CLI do to the organization: one service over
the project, key, service-account and user repositories. Every write clears the
authenticator's cache (``on_change``) so it takes effect on this process at once."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from switchyard.core.errors import ErrorKind, SwitchyardError, invalid
from switchyard.store.database import Database
from switchyard.store.keys import ADMIN_OWNER, ApiKeyRecord, ApiKeyRepository, KeySettings
from switchyard.store.projects import DEFAULT_PROJECT, ProjectRecord, ProjectRepository, RateLimitRecord
from switchyard.store.service_accounts import ServiceAccountRecord, ServiceAccountRepository
from switchyard.store.users import MemberRecord, UserRecord, UserRepository


def not_found(what: str, object_id: str, param: str | None = None) -> SwitchyardError:
    return SwitchyardError(ErrorKind.NOT_FOUND, f"No {what} found with id '{object_id}'.", param=param,
                           code="not_found")


def rate_limit_id(model: str) -> str:
    return "rl-" + model


@dataclass(frozen=True, slots=True)
class NewKey:
    record: ApiKeyRecord
    secret: str  # shown once


class OrganizationService:
    def __init__(self, database: Database, on_change: Callable[[], None] = lambda: None) -> None:
        self.keys = ApiKeyRepository(database)
        self.projects = ProjectRepository(database)
        self.accounts = ServiceAccountRepository(database)
        self.users = UserRepository(database)
        self._changed = on_change

    # projects

    async def create_project(self, name: str, external_key_id: str | None = None) -> ProjectRecord:
        return await self.projects.create(name, external_key_id)

    async def project(self, project_id: str) -> ProjectRecord:
        project = await self.projects.get(project_id)
        if project is None:
            raise not_found("project", project_id)
        return project

    async def active_project(self, project_id: str) -> ProjectRecord:
        project = await self.project(project_id)
        if project.archived:
            raise invalid(f"The project '{project_id}' is archived.", "project_id", "project_archived")
        return project

    async def list_projects(self, include_archived: bool = False) -> list[ProjectRecord]:
        return await self.projects.list(include_archived)

    async def update_project(self, project_id: str, changes: Mapping[str, Any]) -> ProjectRecord:
        project = await self.projects.update(project_id, changes)
        if project is None:
            raise not_found("project", project_id)
        self._changed()
        return project

    async def archive_project(self, project_id: str) -> ProjectRecord:
        if project_id == DEFAULT_PROJECT:
            raise invalid("The default project cannot be archived.", "project_id", "default_project")
        project = await self.projects.archive(project_id)
        if project is None:
            raise not_found("project", project_id)
        self._changed()
        return project

    async def rate_limits(self, project_id: str, models: list[str]) -> list[RateLimitRecord]:
        """One entry per served model (stored limits, or none set), then any stored for
        models no longer served."""
        await self.project(project_id)
        stored = {r.model: r for r in await self.projects.rate_limits(project_id)}
        served = [stored.pop(m, RateLimitRecord(project_id, m)) for m in models]
        return served + list(stored.values())

    async def update_rate_limit(self, project_id: str, limit_id: str, models: list[str],
                                changes: Mapping[str, Any]) -> RateLimitRecord:
        known = {rate_limit_id(r.model): r.model for r in await self.rate_limits(project_id, models)}
        if limit_id not in known:
            raise not_found("rate limit", limit_id, "rate_limit_id")
        record = await self.projects.set_rate_limit(project_id, known[limit_id], changes)
        self._changed()
        return record

    # project API keys and service accounts

    async def create_key(self, project_id: str, name: str, settings: KeySettings,
                         service_account_id: str | None = None) -> NewKey:
        await self.active_project(project_id)
        record, secret = await self.keys.create(project_id, name, kind="project",
                                                service_account_id=service_account_id, settings=settings)
        return NewKey(record, secret)

    async def list_keys(self, project_id: str) -> list[ApiKeyRecord]:
        await self.project(project_id)
        return await self.keys.list(project_id, active_only=True)

    async def key(self, project_id: str, key_id: str) -> ApiKeyRecord:
        await self.project(project_id)
        record = await self.keys.get(key_id, project_id)
        if record is None or record.revoked:
            raise not_found("API key", key_id)
        return record

    async def budget(self, *, project_id: str | None = None, key_id: str | None = None
                     ) -> tuple[Decimal | None, str | None]:
        """The budget stored on a project or a key and its interval; (None, None) when it has
        none or does not exist."""
        if project_id is not None:
            project = await self.projects.get(project_id)
            return (project.budget_usd, project.budget_interval) if project is not None else (None, None)
        record = await self.keys.find_by_id(key_id or "")
        if record is None:
            return None, None
        return record.settings.budget_usd, record.settings.budget_interval

    async def update_key(self, project_id: str, key_id: str, name: str, settings: KeySettings) -> ApiKeyRecord:
        record = await self.keys.update(key_id, project_id, name, settings)
        if record is None:
            raise not_found("API key", key_id)
        self._changed()
        return record

    async def delete_key(self, project_id: str, key_id: str) -> None:
        if not await self.keys.revoke(key_id, project_id):
            raise not_found("API key", key_id)
        self._changed()

    async def create_service_account(self, project_id: str, name: str, with_key: bool,
                                     settings: KeySettings | None = None
                                     ) -> tuple[ServiceAccountRecord, NewKey | None]:
        await self.active_project(project_id)
        account = await self.accounts.create(project_id, name)
        key = (await self.create_key(project_id, "Secret key", settings or KeySettings(), account.id)
               if with_key else None)
        return account, key

    async def service_account(self, project_id: str, account_id: str) -> ServiceAccountRecord:
        await self.project(project_id)
        account = await self.accounts.get(project_id, account_id)
        if account is None:
            raise not_found("service account", account_id)
        return account

    async def list_service_accounts(self, project_id: str) -> list[ServiceAccountRecord]:
        await self.project(project_id)
        return await self.accounts.list(project_id)

    async def update_service_account(self, project_id: str, account_id: str, name: str | None,
                                     role: str | None) -> ServiceAccountRecord:
        current = await self.service_account(project_id, account_id)
        updated = await self.accounts.update(project_id, account_id, name or current.name, role or current.role)
        if updated is None:
            raise not_found("service account", account_id)
        return updated

    async def delete_service_account(self, project_id: str, account_id: str) -> None:
        await self.service_account(project_id, account_id)
        await self.keys.revoke_service_account(account_id)
        await self.accounts.delete(project_id, account_id)
        self._changed()

    # admin keys

    async def create_admin_key(self, name: str, expires_at: datetime | None) -> NewKey:
        record, secret = await self.keys.create(ADMIN_OWNER, name, kind="admin",
                                                settings=KeySettings(expires_at=expires_at))
        return NewKey(record, secret)

    async def list_admin_keys(self) -> list[ApiKeyRecord]:
        return await self.keys.list(ADMIN_OWNER, active_only=True)

    async def admin_key(self, key_id: str) -> ApiKeyRecord:
        record = await self.keys.get(key_id, ADMIN_OWNER)
        if record is None or record.revoked:
            raise not_found("admin API key", key_id, "key_id")
        return record

    async def delete_admin_key(self, key_id: str) -> None:
        if not await self.keys.revoke(key_id, ADMIN_OWNER):
            raise not_found("admin API key", key_id, "key_id")
        self._changed()

    # users

    async def create_user(self, email: str, name: str | None, role: str) -> UserRecord:
        user = await self.users.create(email, name, role)
        if user is None:
            raise invalid(f"A user with the email '{email}' exists already.", "email", "user_exists")
        return user

    async def list_users(self, emails: list[str] | None = None) -> list[UserRecord]:
        return await self.users.list(emails)

    async def user(self, user_id: str) -> UserRecord:
        user = await self.users.get(user_id)
        if user is None:
            raise not_found("user", user_id, "user_id")
        return user

    async def set_user_role(self, user_id: str, role: str) -> UserRecord:
        user = await self.users.set_role(user_id, role)
        if user is None:
            raise not_found("user", user_id, "user_id")
        return user

    async def delete_user(self, user_id: str) -> None:
        if not await self.users.delete(user_id):
            raise not_found("user", user_id, "user_id")

    async def add_member(self, project_id: str, user_id: str | None, email: str | None, role: str
                         ) -> MemberRecord:
        await self.active_project(project_id)
        user = await (self.users.get(user_id) if user_id else self.users.by_email(email or ""))
        if user is None:
            raise not_found("user", user_id or email or "", "user_id")
        member = await self.users.add_member(project_id, user.id, role)
        if member is None:
            raise invalid(f"The user '{user.id}' is a member of this project already.", "user_id",
                          "member_exists")
        return member

    async def member(self, project_id: str, user_id: str) -> MemberRecord:
        await self.project(project_id)
        member = await self.users.member(project_id, user_id)
        if member is None:
            raise not_found("project user", user_id, "user_id")
        return member

    async def members(self, project_id: str) -> list[MemberRecord]:
        await self.project(project_id)
        return await self.users.members(project_id)

    async def set_member_role(self, project_id: str, user_id: str, role: str) -> MemberRecord:
        member = await self.users.set_member_role(project_id, user_id, role)
        if member is None:
            raise not_found("project user", user_id, "user_id")
        return member

    async def remove_member(self, project_id: str, user_id: str) -> None:
        if not await self.users.remove_member(project_id, user_id):
            raise not_found("project user", user_id, "user_id")
