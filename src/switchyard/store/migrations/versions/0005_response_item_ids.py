"""Indexes on response and conversation items by item id: an ``item_reference`` (or a
reasoning item sent back by id) names any stored item of the caller's responses and
conversations, not only those of the chain or conversation it follows.

Revision ID: 0005
Revises: 0004
Create Date: 2025-01-05
"""

from __future__ import annotations

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_index("ix_response_items_item_id", "response_items", ["item_id"])
    op.create_index("ix_conversation_items_item_id", "conversation_items", ["item_id"])


def downgrade() -> None:
    op.drop_index("ix_conversation_items_item_id", table_name="conversation_items")
    op.drop_index("ix_response_items_item_id", table_name="response_items")
