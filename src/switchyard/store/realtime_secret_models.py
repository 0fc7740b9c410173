"""ORM model for the Realtime API's ephemeral client secrets (``store/realtime_secrets.py``).
Only the secret's SHA-256 is kept, with the caller that made it and the session it opens."""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, BigInteger, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from switchyard.store.models import Base


class RealtimeClientSecret(Base):
    __tablename__ = "realtime_client_secrets"
    __table_args__ = (Index(None, "expires_at"),)  # purge of expired secrets

    secret_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    owner_id: Mapped[str] = mapped_column(String(128))
    caller: Mapped[dict[str, Any]] = mapped_column(JSON)
    session: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[int] = mapped_column(BigInteger)
    expires_at: Mapped[int] = mapped_column(BigInteger)
