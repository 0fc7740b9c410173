"""ORM models for batches: one row per batch (OpenAI's ``batch_…`` and Anthropic's
``msgbatch_…``), one row per request line with its outcome once it has one.

A line's ``state`` is ``pending`` until it ran (or was given up), so a batch taken over
after its process died runs only its pending lines. API timestamps are integer unix
seconds; ``created_us`` orders listings; the lease deadline is a ``UTCDateTime``."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from switchyard.store.models import Base, UTCDateTime


class Batch(Base):
    __tablename__ = "batches"
    __table_args__ = (
        Index(None, "owner_id", "api", "created_us"),
        Index(None, "status"),  # the runner's claim
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    owner_id: Mapped[str] = mapped_column(String(128))
    api: Mapped[str] = mapped_column(String(16))  # openai | anthropic
    endpoint: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))  # OpenAI's statuses; Anthropic's are read from them
    request: Mapped[dict[str, Any]] = mapped_column(JSON)  # the create call's parameters
    caller: Mapped[dict[str, Any]] = mapped_column(JSON)  # who created it, for metering and model access
    errors: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    model: Mapped[str | None] = mapped_column(String(256))
    total: Mapped[int] = mapped_column(Integer)
    succeeded: Mapped[int] = mapped_column(Integer)
    errored: Mapped[int] = mapped_column(Integer)
    canceled: Mapped[int] = mapped_column(Integer)
    expired: Mapped[int] = mapped_column(Integer)
    output_file_id: Mapped[str | None] = mapped_column(String(64))
    error_file_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[int] = mapped_column(BigInteger)
    created_us: Mapped[int] = mapped_column(BigInteger)
    expires_at: Mapped[int] = mapped_column(BigInteger)
    in_progress_at: Mapped[int | None] = mapped_column(BigInteger)
    finalizing_at: Mapped[int | None] = mapped_column(BigInteger)
    completed_at: Mapped[int | None] = mapped_column(BigInteger)
    failed_at: Mapped[int | None] = mapped_column(BigInteger)
    expired_at: Mapped[int | None] = mapped_column(BigInteger)
    cancelling_at: Mapped[int | None] = mapped_column(BigInteger)
    cancelled_at: Mapped[int | None] = mapped_column(BigInteger)
    worker_id: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer)


class BatchLine(Base):
    __tablename__ = "batch_lines"
    __table_args__ = (Index(None, "batch_id", "state"),)

    batch_id: Mapped[str] = mapped_column(String(64), ForeignKey("batches.id", ondelete="CASCADE"),
                                          primary_key=True)
    line: Mapped[int] = mapped_column(Integer, primary_key=True)  # 1-based, as in the input file
    custom_id: Mapped[str] = mapped_column(String(512))
    body: Mapped[dict[str, Any]] = mapped_column(JSON)
    state: Mapped[str] = mapped_column(String(16))  # pending | succeeded | errored | canceled | expired
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # status and body, or the error
