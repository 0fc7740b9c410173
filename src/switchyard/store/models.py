"""ORM models: the schema as Python. Only repositories in ``store/`` use these;
migrations under ``migrations/versions`` are written by hand to match them
(``tests/store/test_migrations.py`` fails when they drift apart)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, DateTime, Index, Integer, MetaData, String
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.sql.expression import true
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator[datetime]):
    """``timestamp with time zone``; always aware UTC in Python, also on SQLite
    (which stores no offset: values are normalised to UTC before they are written)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: store aware UTC datetimes only")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


class ApiKey(Base):
    __tablename__ = "api_keys"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    owner_id: Mapped[str] = mapped_column(String(128), index=True)
    name: Mapped[str] = mapped_column(String(256))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)  # sha256 hex of the secret
    key_prefix: Mapped[str] = mapped_column(String(32))
    scopes: Mapped[list[str]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # "project" keys call the model APIs in project ``owner_id``; "admin" keys manage the organization.
    kind: Mapped[str] = mapped_column(String(16), server_default="project")
    service_account_id: Mapped[str | None] = mapped_column(String(64), index=True)
    enabled: Mapped[bool] = mapped_column(Boolean, server_default=true())
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    allowed_models: Mapped[list[str] | None] = mapped_column(JSON)
    allowed_ips: Mapped[list[str] | None] = mapped_column(JSON)  # CIDRs
    rpm_limit: Mapped[int | None] = mapped_column(Integer)
    tpm_limit: Mapped[int | None] = mapped_column(Integer)
    concurrency_limit: Mapped[int | None] = mapped_column(Integer)
    budget_micro_usd: Mapped[int | None] = mapped_column(BigInteger)  # exact: millionths of a dollar
    budget_interval: Mapped[str | None] = mapped_column(String(16))  # "month" or "total"


class RequestLogEntry(Base):
    """The usage ledger: one row per metered API request (or background run)."""

    __tablename__ = "request_log"
    __table_args__ = (Index(None, "owner_id", "created_at"), Index(None, "created_unix"))

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    request_id: Mapped[str] = mapped_column(String(64), index=True)
    owner_id: Mapped[str] = mapped_column(String(128))  # the project
    key_id: Mapped[str | None] = mapped_column(String(64), index=True)  # kept when the key is deleted
    kind: Mapped[str] = mapped_column(String(16))  # completions | embeddings | transcriptions | speeches
    surface: Mapped[str] = mapped_column(String(64))
    model: Mapped[str] = mapped_column(String(256))
    deployment: Mapped[str | None] = mapped_column(String(256))
    status: Mapped[int | None] = mapped_column(Integer)  # the HTTP status answered (none for background runs)
    outcome: Mapped[str] = mapped_column(String(32))
    error_code: Mapped[str | None] = mapped_column(String(128))
    model_requests: Mapped[int] = mapped_column(Integer)
    input_tokens: Mapped[int] = mapped_column(Integer)
    cached_input_tokens: Mapped[int] = mapped_column(Integer)
    cache_write_tokens: Mapped[int] = mapped_column(Integer)
    output_tokens: Mapped[int] = mapped_column(Integer)
    reasoning_tokens: Mapped[int] = mapped_column(Integer)
    usage_counted: Mapped[bool] = mapped_column(Boolean)  # counted here: the upstream reported none
    cost_nanousd: Mapped[int] = mapped_column(BigInteger)
    latency_ms: Mapped[int] = mapped_column(Integer)
    ttft_ms: Mapped[int | None] = mapped_column(Integer)
    audio_ms: Mapped[int] = mapped_column(BigInteger, server_default="0")  # audio transcribed or translated
    characters: Mapped[int] = mapped_column(BigInteger, server_default="0")  # text spoken
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_unix: Mapped[int] = mapped_column(BigInteger)  # created_at in Unix seconds, for time buckets


class BudgetSpend(Base):
    """What one budget holder (``project:<id>`` or ``key:<id>``) has spent and holds reserved."""

    __tablename__ = "budget_spend"

    id: Mapped[str] = mapped_column(String(200), primary_key=True)
    spent_nanousd: Mapped[int] = mapped_column(BigInteger)
    reserved_nanousd: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class BudgetReservation(Base):
    """One reservation, keyed by the call (request id and turn), so that reserving, settling
    and refunding it again changes nothing."""

    __tablename__ = "budget_reservations"

    id: Mapped[str] = mapped_column(String(200), primary_key=True)
    holders: Mapped[list[str]] = mapped_column(JSON)
    amount_nanousd: Mapped[int] = mapped_column(BigInteger)
    actual_nanousd: Mapped[int | None] = mapped_column(BigInteger)
    state: Mapped[str] = mapped_column(String(16))  # reserved | settled
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


from switchyard.store import assistants_models as _assistants_models  # noqa: E402, F401  (registers tables)
from switchyard.store import batches_models as _batches_models  # noqa: E402, F401  (registers tables)
from switchyard.store import deployment_models as _deployment_models  # noqa: E402, F401  (registers tables)
from switchyard.store import files_models as _files_models  # noqa: E402, F401  (registers tables)
from switchyard.store import image_models as _image_models  # noqa: E402, F401  (registers tables)
from switchyard.store import realtime_secret_models as _realtime_secret_models  # noqa: E402, F401  (registers tables)
from switchyard.store import responses_models as _responses_models  # noqa: E402, F401  (registers tables)
from switchyard.store import tenancy_models as _tenancy_models  # noqa: E402, F401  (registers tables)
from switchyard.store import vector_store_models as _vector_store_models  # noqa: E402, F401  (registers tables)
