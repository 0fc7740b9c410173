"""ORM models for the Responses API, Conversations and background responses.

Items and response bodies are kept in the OpenAI wire shape, as returned to
clients. API timestamps (``created_at``, ``completed_at``) are integer unix
seconds, as the API shows them; the internal lease deadline is a ``UTCDateTime``.

JSON columns are plain ``JSON`` (``json`` on PostgreSQL, not ``jsonb``): nothing
queries inside them, ``json`` keeps key order as written, and ``jsonb`` rejects
``\\u0000`` in strings, which clients and models can send."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from switchyard.store.models import Base, UTCDateTime

Document = JSON


class Response(Base):
    __tablename__ = "responses"
    __table_args__ = (
        Index(None, "owner_id", "created_at"),
        Index(None, "status", "created_at"),  # background job queue
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    owner_id: Mapped[str] = mapped_column(String(128))
    model: Mapped[str] = mapped_column(String(256))
    status: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[int] = mapped_column(BigInteger)
    completed_at: Mapped[int | None] = mapped_column(BigInteger)
    # No foreign keys: a deleted response or conversation leaves its followers in place.
    previous_response_id: Mapped[str | None] = mapped_column(String(64))
    conversation_id: Mapped[str | None] = mapped_column(String(64), index=True)
    background: Mapped[bool] = mapped_column(Boolean, default=False)
    body: Mapped[dict[str, Any]] = mapped_column(Document)  # the wire Response object
    request: Mapped[dict[str, Any]] = mapped_column(Document)  # what a (re)run needs
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    worker_id: Mapped[str | None] = mapped_column(String(128))
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)


class ResponseItem(Base):
    """An input (``role="input"``) or output (``role="output"``) item of a response."""

    __tablename__ = "response_items"

    response_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("responses.id", ondelete="CASCADE"), primary_key=True
    )
    role: Mapped[str] = mapped_column(String(8), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[str] = mapped_column(String(128), index=True)
    item: Mapped[dict[str, Any]] = mapped_column(Document)


class ResponseEvent(Base):
    """A stored streaming event of a (background) response, for resumed streams."""

    __tablename__ = "response_events"

    # No foreign key: events may be logged before or without a stored response row.
    response_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    sequence_number: Mapped[int] = mapped_column(Integer, primary_key=True)
    event: Mapped[dict[str, Any]] = mapped_column(Document)


class Conversation(Base):
    __tablename__ = "conversations"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    owner_id: Mapped[str] = mapped_column(String(128), index=True)
    created_at: Mapped[int] = mapped_column(BigInteger)
    metadata_: Mapped[dict[str, Any]] = mapped_column("metadata", Document)
    # Positions handed out so far; appends bump it first, which also locks the row.
    next_position: Mapped[int] = mapped_column(Integer, default=0)


class ConversationItem(Base):
    __tablename__ = "conversation_items"
    __table_args__ = (UniqueConstraint("conversation_id", "item_id"),)

    conversation_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("conversations.id", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[str] = mapped_column(String(128), index=True)
    item: Mapped[dict[str, Any]] = mapped_column(Document)
    created_at: Mapped[int] = mapped_column(BigInteger)
