"""Ephemeral client secrets of the Realtime API: stored by the SHA-256 of the secret (the
secret itself is never kept), with the caller that made it (a principal snapshot) and the
session configuration it opens; an expired one reads as missing and is purged."""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select

from switchyard.store.database import Database
from switchyard.store.realtime_secret_models import RealtimeClientSecret


@dataclass(frozen=True, slots=True)
class SecretRecord:
    owner_id: str
    caller: dict[str, Any]
    session: dict[str, Any]
    created_at: int
    expires_at: int


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class RealtimeSecretRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def create(self, secret: str, owner_id: str, caller: dict[str, Any], session: dict[str, Any],
                     created_at: int, expires_at: int) -> None:
        row = RealtimeClientSecret(secret_hash=secret_hash(secret), owner_id=owner_id, caller=caller, session=session,
                                   created_at=created_at, expires_at=expires_at)
        async with self._db.session() as db:
            await db.execute(delete(RealtimeClientSecret).where(RealtimeClientSecret.expires_at <= created_at)
                             .execution_options(synchronize_session=False))
            db.add(row)

    async def get(self, secret: str, *, now: float | None = None) -> SecretRecord | None:
        moment = int(time.time() if now is None else now)
        query = select(RealtimeClientSecret).where(RealtimeClientSecret.secret_hash == secret_hash(secret),
                                                   RealtimeClientSecret.expires_at > moment)
        async with self._db.session(read_only=True) as db:
            row = (await db.scalars(query)).one_or_none()
            if row is None:
                return None
            return SecretRecord(row.owner_id, dict(row.caller), dict(row.session), row.created_at, row.expires_at)
