"""ORM model for images made by the Images API and served back by URL (``store/images.py``).
The bytes live in the blob store under ``blob_key``; the row expires with its URL."""

from __future__ import annotations

from sqlalchemy import BigInteger, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from switchyard.store.models import Base


class GeneratedImage(Base):
    __tablename__ = "generated_images"
    __table_args__ = (Index(None, "expires_at"),)  # purge of expired images

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    owner_id: Mapped[str] = mapped_column(String(128))
    mime_type: Mapped[str] = mapped_column(String(64))
    bytes: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[int] = mapped_column(BigInteger)
    expires_at: Mapped[int] = mapped_column(BigInteger)
    blob_key: Mapped[str] = mapped_column(String(64))
