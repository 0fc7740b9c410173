"""ORM models for Assistants runs and their steps.

A run keeps its wire ``thread.run`` object (``body``), what it was asked to run with
(``request``: the resolved model, instructions, tools and limits, and who asked), the
usage of its finished segments, and the job fields: ``worker_id`` and ``lease_until``
while a worker runs it, ``cancel_requested``, and ``expires_at`` while it waits for tool
outputs. A step keeps its wire ``thread.run.step`` (file_search results with their text,
shown only when ``include``d). ``created_us`` orders listings."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from switchyard.store.models import Base, UTCDateTime


class AssistantRun(Base):
    __tablename__ = "assistant_runs"
    __table_args__ = (
        Index(None, "owner_id", "thread_id", "created_us"),
        Index(None, "status"),  # the runner's claim
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    owner_id: Mapped[str] = mapped_column(String(128))
    thread_id: Mapped[str] = mapped_column(String(64))
    assistant_id: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(24))
    body: Mapped[dict[str, Any]] = mapped_column(JSON)
    request: Mapped[dict[str, Any]] = mapped_column(JSON)
    usage: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_us: Mapped[int] = mapped_column(BigInteger)
    expires_at: Mapped[int | None] = mapped_column(BigInteger)
    cancel_requested: Mapped[bool] = mapped_column(Boolean)
    worker_id: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer)


class AssistantRunStep(Base):
    __tablename__ = "assistant_run_steps"
    __table_args__ = (Index(None, "run_id", "created_us"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    run_id: Mapped[str] = mapped_column(String(64), ForeignKey("assistant_runs.id", ondelete="CASCADE"))
    owner_id: Mapped[str] = mapped_column(String(128))
    thread_id: Mapped[str] = mapped_column(String(64))
    created_us: Mapped[int] = mapped_column(BigInteger)
    body: Mapped[dict[str, Any]] = mapped_column(JSON)
