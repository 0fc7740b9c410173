"""API keys: only a SHA-256 hash of each secret is stored; the secret is shown once.

A key is a project key (``kind="project"``, ``owner_id`` is its project) or an admin
key (``kind="admin"``, ``owner_id`` is ``ADMIN_OWNER``). Each carries the settings an
operator may change later (``KeySettings``)."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select, update

from switchyard.store.database import Database
from switchyard.store.ids import new_id
from switchyard.store.models import ApiKey, utcnow
from switchyard.store.rows import Rows
from switchyard.store.tenancy_models import Project

SECRET_PREFIX = "sk-sy-"
ADMIN_SECRET_PREFIX = "sk-sy-admin-"
DISPLAY_PREFIX_LENGTH = len(SECRET_PREFIX) + 4
ADMIN_OWNER = "organization"
MICRO = Decimal(1_000_000)


def to_micro(usd: Decimal | None) -> int | None:
    return None if usd is None else int((usd * MICRO).to_integral_value())


def from_micro(micro: int | None) -> Decimal | None:
    return None if micro is None else Decimal(micro) / MICRO


@dataclass(frozen=True, slots=True)
class KeySettings:
    enabled: bool = True
    expires_at: datetime | None = None
    allowed_models: tuple[str, ...] | None = None
    allowed_ips: tuple[str, ...] | None = None  # CIDRs
    rpm_limit: int | None = None
    tpm_limit: int | None = None
    concurrency_limit: int | None = None
    budget_usd: Decimal | None = None
    budget_interval: str | None = None  # "month" or "total"

    def columns(self) -> dict[str, Any]:
        return {
            "enabled": self.enabled, "expires_at": self.expires_at,
            "allowed_models": None if self.allowed_models is None else list(self.allowed_models),
            "allowed_ips": None if self.allowed_ips is None else list(self.allowed_ips),
            "rpm_limit": self.rpm_limit, "tpm_limit": self.tpm_limit,
            "concurrency_limit": self.concurrency_limit,
            "budget_micro_usd": to_micro(self.budget_usd), "budget_interval": self.budget_interval,
        }


@dataclass(frozen=True, slots=True)
class ApiKeyRecord:
    id: str
    owner_id: str
    name: str
    key_prefix: str
    scopes: tuple[str, ...]
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None
    kind: str = "project"
    service_account_id: str | None = None
    settings: KeySettings = KeySettings()

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _tuple(values: list[str] | None) -> tuple[str, ...] | None:
    return None if values is None else tuple(values)


def _record(row: ApiKey) -> ApiKeyRecord:
    settings = KeySettings(
        enabled=bool(row.enabled), expires_at=row.expires_at,
        allowed_models=_tuple(row.allowed_models), allowed_ips=_tuple(row.allowed_ips),
        rpm_limit=row.rpm_limit, tpm_limit=row.tpm_limit, concurrency_limit=row.concurrency_limit,
        budget_usd=from_micro(row.budget_micro_usd), budget_interval=row.budget_interval,
    )
    return ApiKeyRecord(
        id=row.id,
        owner_id=row.owner_id,
        name=row.name,
        key_prefix=row.key_prefix,
        scopes=tuple(row.scopes),
        created_at=row.created_at,
        last_used_at=row.last_used_at,
        revoked_at=row.revoked_at,
        kind=row.kind,
        service_account_id=row.service_account_id,
        settings=settings,
    )


class ApiKeyRepository:
    def __init__(self, db: Database) -> None:
        self._db = db
        self._rows = Rows(db, ApiKey, _record)

    async def create(
        self, owner_id: str, name: str, scopes: Sequence[str] | None = None, *, kind: str = "project",
        service_account_id: str | None = None, settings: KeySettings | None = None,
    ) -> tuple[ApiKeyRecord, str]:
        """Returns the record and the plaintext secret, which is not stored anywhere.
        A project key for a project id that does not exist yet creates that project (so
        scripts that issue keys straight into the store keep working)."""
        prefix = ADMIN_SECRET_PREFIX if kind == "admin" else SECRET_PREFIX
        secret = prefix + secrets.token_urlsafe(32)
        row = ApiKey(
            id=new_id("key_"),
            owner_id=owner_id,
            name=name,
            key_hash=hash_secret(secret),
            key_prefix=secret[:len(prefix) + 4],
            scopes=list(scopes or []),
            created_at=utcnow(),
            kind=kind,
            service_account_id=service_account_id,
            **(settings or KeySettings()).columns(),
        )
        async with self._db.session() as session:
            if kind == "project" and await session.get(Project, owner_id) is None:
                session.add(Project(id=owner_id, name=owner_id, created_at=row.created_at))
                await session.flush()
            session.add(row)
        return _record(row), secret

    async def find_by_secret(self, secret: str) -> ApiKeyRecord | None:
        """The active (not revoked) key whose secret this is."""
        query = select(ApiKey).where(
            ApiKey.key_hash == hash_secret(secret), ApiKey.revoked_at.is_(None)
        )
        return await self._rows.first(query)

    async def find_by_id(self, key_id: str) -> ApiKeyRecord | None:
        """Any owner's key; for operators (the CLI), never for a caller's request."""
        return await self._rows.get(key_id)

    async def get(self, key_id: str, owner_id: str) -> ApiKeyRecord | None:
        return await self._rows.first(select(ApiKey).where(ApiKey.id == key_id, ApiKey.owner_id == owner_id))

    async def revoke(self, key_id: str, owner_id: str) -> bool:
        """True if ``owner_id``'s active key ``key_id`` is now revoked; False if there
        is no such key for this owner or it was revoked already."""
        statement = (
            update(ApiKey)
            .where(ApiKey.id == key_id, ApiKey.owner_id == owner_id, ApiKey.revoked_at.is_(None))
            .values(revoked_at=utcnow())
            .execution_options(synchronize_session=False)
        )
        async with self._db.session() as session:
            result = await session.execute(statement)
            return bool(result.rowcount)  # type: ignore[attr-defined]

    async def revoke_service_account(self, service_account_id: str) -> int:
        """Revokes every active key of a service account; returns how many."""
        statement = (
            update(ApiKey)
            .where(ApiKey.service_account_id == service_account_id, ApiKey.revoked_at.is_(None))
            .values(revoked_at=utcnow())
            .execution_options(synchronize_session=False)
        )
        async with self._db.session() as session:
            result = await session.execute(statement)
            return int(result.rowcount)  # type: ignore[attr-defined]

    async def list(self, owner_id: str, *, active_only: bool = False,
                   service_account_id: str | None = None) -> list[ApiKeyRecord]:
        """``owner_id``'s keys (revoked ones too unless ``active_only``), oldest first."""
        query = select(ApiKey).where(ApiKey.owner_id == owner_id)
        if active_only:
            query = query.where(ApiKey.revoked_at.is_(None))
        if service_account_id is not None:
            query = query.where(ApiKey.service_account_id == service_account_id)
        return await self._rows.all(query.order_by(ApiKey.created_at, ApiKey.id))

    async def update(self, key_id: str, owner_id: str, name: str, settings: KeySettings
                     ) -> ApiKeyRecord | None:
        """Replaces an active key's name and settings; None if there is no such key."""
        active = select(ApiKey).where(ApiKey.id == key_id, ApiKey.owner_id == owner_id, ApiKey.revoked_at.is_(None))
        return await self._rows.change(active, {"name": name, **settings.columns()})

    async def touch(self, key_id: str) -> None:
        statement = (
            update(ApiKey)
            .where(ApiKey.id == key_id)
            .values(last_used_at=utcnow())
            .execution_options(synchronize_session=False)
        )
        async with self._db.session() as session:
            await session.execute(statement)
