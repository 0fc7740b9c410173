"""API keys: only a SHA-256 hash of each secret is stored; the secret is shown once."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update

from switchyard.store.database import Database
from switchyard.store.ids import new_id
from switchyard.store.models import ApiKey, utcnow

SECRET_PREFIX = "sk-sy-"
DISPLAY_PREFIX_LENGTH = len(SECRET_PREFIX) + 4


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

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _record(row: ApiKey) -> ApiKeyRecord:
    return ApiKeyRecord(
        id=row.id,
        owner_id=row.owner_id,
        name=row.name,
        key_prefix=row.key_prefix,
        scopes=tuple(row.scopes),
        created_at=row.created_at,
        last_used_at=row.last_used_at,
        revoked_at=row.revoked_at,
    )


class ApiKeyRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def create(
        self, owner_id: str, name: str, scopes: Sequence[str] | None = None
    ) -> tuple[ApiKeyRecord, str]:
        """Returns the record and the plaintext secret, which is not stored anywhere."""
        secret = SECRET_PREFIX + secrets.token_urlsafe(32)
        row = ApiKey(
            id=new_id("key_"),
            owner_id=owner_id,
            name=name,
            key_hash=hash_secret(secret),
            key_prefix=secret[:DISPLAY_PREFIX_LENGTH],
            scopes=list(scopes or []),
            created_at=utcnow(),
        )
        async with self._db.session() as session:
            session.add(row)
        return _record(row), secret

    async def find_by_secret(self, secret: str) -> ApiKeyRecord | None:
        """The active (not revoked) key whose secret this is."""
        query = select(ApiKey).where(
            ApiKey.key_hash == hash_secret(secret), ApiKey.revoked_at.is_(None)
        )
        async with self._db.session(read_only=True) as session:
            row = await session.scalar(query)
            return None if row is None else _record(row)

    async def get(self, key_id: str, owner_id: str) -> ApiKeyRecord | None:
        query = select(ApiKey).where(ApiKey.id == key_id, ApiKey.owner_id == owner_id)
        async with self._db.session(read_only=True) as session:
            row = await session.scalar(query)
            return None if row is None else _record(row)

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

    async def list(self, owner_id: str) -> list[ApiKeyRecord]:
        """All of ``owner_id``'s keys, revoked ones included, oldest first."""
        query = (
            select(ApiKey).where(ApiKey.owner_id == owner_id).order_by(ApiKey.created_at, ApiKey.id)
        )
        async with self._db.session(read_only=True) as session:
            return [_record(row) for row in await session.scalars(query)]

    async def touch(self, key_id: str) -> None:
        statement = (
            update(ApiKey)
            .where(ApiKey.id == key_id)
            .values(last_used_at=utcnow())
            .execution_options(synchronize_session=False)
        )
        async with self._db.session() as session:
            await session.execute(statement)
