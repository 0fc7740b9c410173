"""A deployment's own circuit-breaker settings, set through the admin API: consecutive
failures, cooldown, and the error rate's threshold, window and minimum calls (null: the
routing's).

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0027"
down_revision: str | None = "0026"
branch_labels: str | None = None
depends_on: str | None = None

COLUMNS = (
    ("breaker_failures", sa.Integer()),
    ("breaker_cooldown", sa.Float()),
    ("breaker_error_rate", sa.Float()),
    ("breaker_window", sa.Float()),
    ("breaker_min_calls", sa.Integer()),
)


def upgrade() -> None:
    with op.batch_alter_table("deployments") as batch:
        for name, kind in COLUMNS:
            batch.add_column(sa.Column(name, kind, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("deployments") as batch:
        for name, _ in reversed(COLUMNS):
            batch.drop_column(name)
