"""ORM model for deployments added through the admin API (those declared in the
config file are not stored). Organisation-level objects: no ``owner_id``.
Credentials (``api_key`` and ``headers``) are one sealed value (``secret_box.py``),
bound to the row's id."""

from __future__ import annotations

from sqlalchemy import BigInteger, Float, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from switchyard.store.models import Base


class StoredDeploymentRow(Base):
    __tablename__ = "deployments"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    model: Mapped[str] = mapped_column(String(256), index=True)
    provider: Mapped[str] = mapped_column(String(32))
    upstream_model: Mapped[str] = mapped_column(String(256))
    base_url: Mapped[str | None] = mapped_column(String(2048))
    credentials: Mapped[str | None] = mapped_column(Text)
    key_hint: Mapped[str | None] = mapped_column(String(32))
    weight: Mapped[float] = mapped_column(Float)
    priority: Mapped[int] = mapped_column(Integer)
    max_concurrency: Mapped[int | None] = mapped_column(Integer)
    rpm: Mapped[int | None] = mapped_column(Integer)
    tpm: Mapped[int | None] = mapped_column(BigInteger)
    timeout: Mapped[float | None] = mapped_column(Float)
    # the breaker's settings for this deployment (null: the routing's)
    breaker_failures: Mapped[int | None] = mapped_column(Integer)
    breaker_cooldown: Mapped[float | None] = mapped_column(Float)
    breaker_error_rate: Mapped[float | None] = mapped_column(Float)
    breaker_window: Mapped[float | None] = mapped_column(Float)
    breaker_min_calls: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[int] = mapped_column(BigInteger)
    updated_us: Mapped[int] = mapped_column(BigInteger)
