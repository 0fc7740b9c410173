"""Projects, service accounts, users, per-model project rate limits; API keys gain a
kind (project or admin), expiry, enable/disable, allowlists, limits and a budget.

Rows that belonged to the old single owner of the master key ("owner_master") move
to the default project, which the master key acts in, so they stay reachable.

Revision ID: 0009
Revises: 0008
Create Date: 2025-01-08
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | None = None
depends_on: str | None = None

OLD_OWNER = "owner_master"
DEFAULT_PROJECT = "proj_default"
OWNED_TABLES = ("api_keys", "request_log", "files", "uploads", "responses", "conversations",
                "vector_stores", "vector_store_files", "vector_store_batches")

KEY_COLUMNS = (
    ("kind", sa.String(16), {"nullable": False, "server_default": "project"}),
    ("service_account_id", sa.String(64), {"nullable": True}),
    ("enabled", sa.Boolean(), {"nullable": False, "server_default": sa.true()}),
    ("expires_at", sa.DateTime(timezone=True), {"nullable": True}),
    ("allowed_models", sa.JSON(), {"nullable": True}),
    ("allowed_ips", sa.JSON(), {"nullable": True}),
    ("rpm_limit", sa.Integer(), {"nullable": True}),
    ("tpm_limit", sa.Integer(), {"nullable": True}),
    ("concurrency_limit", sa.Integer(), {"nullable": True}),
    ("budget_micro_usd", sa.BigInteger(), {"nullable": True}),
    ("budget_interval", sa.String(16), {"nullable": True}),
)


def _limits() -> list[sa.Column[int]]:
    return [sa.Column("rpm_limit", sa.Integer(), nullable=True),
            sa.Column("tpm_limit", sa.Integer(), nullable=True),
            sa.Column("concurrency_limit", sa.Integer(), nullable=True)]


def _move_owner(old: str, new: str) -> None:
    existing = set(sa.inspect(op.get_bind()).get_table_names())
    for table in OWNED_TABLES:
        if table in existing:
            op.execute(sa.text(f"UPDATE {table} SET owner_id = :new WHERE owner_id = :old")
                       .bindparams(new=new, old=old))


def upgrade() -> None:
    projects = op.create_table(
        "projects",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(256), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("archived_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("external_key_id", sa.String(256), nullable=True),
        *_limits(),
        sa.Column("budget_micro_usd", sa.BigInteger(), nullable=True),
        sa.Column("budget_interval", sa.String(16), nullable=True),
        sa.Column("model_mode", sa.String(16), nullable=True),
        sa.Column("model_ids", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_projects"),
    )
    op.create_table(
        "project_rate_limits",
        sa.Column("project_id", sa.String(64), nullable=False),
        sa.Column("model", sa.String(256), nullable=False),
        *_limits(),
        sa.PrimaryKeyConstraint("project_id", "model", name="pk_project_rate_limits"),
    )
    op.create_table(
        "service_accounts",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("project_id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(256), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_service_accounts"),
    )
    op.create_index("ix_service_accounts_project_id", "service_accounts", ["project_id"])
    op.create_table(
        "org_users",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("name", sa.String(256), nullable=True),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_org_users"),
        sa.UniqueConstraint("email", name="uq_org_users_email"),
    )
    op.create_table(
        "project_users",
        sa.Column("project_id", sa.String(64), nullable=False),
        sa.Column("user_id", sa.String(64), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("project_id", "user_id", name="pk_project_users"),
    )
    op.create_index("ix_project_users_user_id", "project_users", ["user_id"])
    with op.batch_alter_table("api_keys") as batch:
        for name, type_, options in KEY_COLUMNS:
            batch.add_column(sa.Column(name, type_, **options))  # type: ignore[arg-type]
        batch.create_index("ix_api_keys_service_account_id", ["service_account_id"])
    now = datetime.now(UTC)
    if op.get_bind().dialect.name == "sqlite":
        now = now.replace(tzinfo=None)
    op.bulk_insert(projects, [{"id": DEFAULT_PROJECT, "name": "Default project", "created_at": now}])
    _move_owner(OLD_OWNER, DEFAULT_PROJECT)


def downgrade() -> None:
    _move_owner(DEFAULT_PROJECT, OLD_OWNER)
    op.execute(sa.text("DELETE FROM api_keys WHERE kind = 'admin'"))
    with op.batch_alter_table("api_keys") as batch:
        batch.drop_index("ix_api_keys_service_account_id")
        for name, _, _ in reversed(KEY_COLUMNS):
            batch.drop_column(name)
    op.drop_table("project_users")
    op.drop_table("org_users")
    op.drop_table("service_accounts")
    op.drop_table("project_rate_limits")
    op.drop_table("projects")
