"""ORM models for the organization: projects, their per-model rate limits, service
accounts and users (OpenAI's Administration API). API keys are in ``models.py``."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from switchyard.store.models import Base, UTCDateTime


class Project(Base):
    __tablename__ = "projects"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(256))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    external_key_id: Mapped[str | None] = mapped_column(String(256))
    rpm_limit: Mapped[int | None] = mapped_column(Integer)
    tpm_limit: Mapped[int | None] = mapped_column(Integer)
    concurrency_limit: Mapped[int | None] = mapped_column(Integer)
    budget_micro_usd: Mapped[int | None] = mapped_column(BigInteger)
    budget_interval: Mapped[str | None] = mapped_column(String(16))
    model_mode: Mapped[str | None] = mapped_column(String(16))  # "allow_list" / "deny_list"
    model_ids: Mapped[list[str] | None] = mapped_column(JSON)
    moderation_mode: Mapped[str | None] = mapped_column(String(16))  # "flag" / "block" / "log"
    moderation_model: Mapped[str | None] = mapped_column(String(256))
    moderation_categories: Mapped[list[str] | None] = mapped_column(JSON)
    moderation_output_mode: Mapped[str | None] = mapped_column(String(16))  # output: "flag" / "block" / "log"


class ProjectRateLimit(Base):
    """One model's limits in one project (OpenAI's ``project.rate_limit``)."""

    __tablename__ = "project_rate_limits"

    project_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    model: Mapped[str] = mapped_column(String(256), primary_key=True)
    rpm_limit: Mapped[int | None] = mapped_column(Integer)
    tpm_limit: Mapped[int | None] = mapped_column(Integer)
    concurrency_limit: Mapped[int | None] = mapped_column(Integer)


class ServiceAccount(Base):
    __tablename__ = "service_accounts"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    project_id: Mapped[str] = mapped_column(String(64), index=True)
    name: Mapped[str] = mapped_column(String(256))
    role: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class OrgUser(Base):
    __tablename__ = "org_users"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str | None] = mapped_column(String(256))
    role: Mapped[str] = mapped_column(String(16))  # "owner" / "reader"
    added_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ProjectUser(Base):
    __tablename__ = "project_users"

    project_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(64), primary_key=True, index=True)
    role: Mapped[str] = mapped_column(String(16))  # "owner" / "member"
    added_at: Mapped[datetime] = mapped_column(UTCDateTime)
