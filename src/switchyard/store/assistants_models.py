"""ORM models for the Assistants API: assistants, threads and thread messages.

Assistants and messages are kept in the OpenAI wire shape (``body``), as returned
to clients, like stored responses; the columns beside it are what queries need
(owner, order, the thread and run a message belongs to). ``created_us`` orders
assistants and threads within one second."""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, BigInteger, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from switchyard.store.models import Base


class Assistant(Base):
    __tablename__ = "assistants"
    __table_args__ = (Index(None, "owner_id", "created_us"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    owner_id: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[int] = mapped_column(BigInteger)
    created_us: Mapped[int] = mapped_column(BigInteger)
    body: Mapped[dict[str, Any]] = mapped_column(JSON)  # the wire Assistant, plus "reasoning_effort"


class Thread(Base):
    __tablename__ = "threads"
    __table_args__ = (Index(None, "owner_id", "created_us"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    owner_id: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[int] = mapped_column(BigInteger)
    created_us: Mapped[int] = mapped_column(BigInteger)
    tool_resources: Mapped[dict[str, Any]] = mapped_column(JSON)
    metadata_: Mapped[dict[str, Any]] = mapped_column("metadata", JSON)
    next_position: Mapped[int] = mapped_column(Integer, default=0)


class ThreadMessage(Base):
    __tablename__ = "thread_messages"
    __table_args__ = (
        Index(None, "thread_id", "position", unique=True),
        Index(None, "thread_id", "run_id"),
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    thread_id: Mapped[str] = mapped_column(String(64))  # no foreign key: a thread's delete removes these
    owner_id: Mapped[str] = mapped_column(String(128))
    position: Mapped[int] = mapped_column(Integer)
    run_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[int] = mapped_column(BigInteger)
    body: Mapped[dict[str, Any]] = mapped_column(JSON)  # the wire thread.message
