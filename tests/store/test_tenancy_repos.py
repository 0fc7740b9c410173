"""Projects, service accounts, users and key settings round-trip on both backends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from switchyard.store import Database
from switchyard.store.keys import ApiKeyRepository, KeySettings
from switchyard.store.projects import DEFAULT_PROJECT, ProjectRepository
from switchyard.store.service_accounts import ServiceAccountRepository
from switchyard.store.users import UserRepository


async def test_projects(database: Database) -> None:
    projects = ProjectRepository(database)
    assert [p.id for p in await projects.list()] == [DEFAULT_PROJECT]
    made = await projects.create("Team A", external_key_id="ext-1")
    assert made.id.startswith("proj_") and made.external_key_id == "ext-1" and not made.archived
    changed = await projects.update(made.id, {"rpm_limit": 5, "budget_usd": Decimal("12.345678"),
                                              "budget_interval": "month", "model_mode": "allow_list",
                                              "model_ids": ("gpt-*",)})
    assert changed is not None and changed.budget_usd == Decimal("12.345678")
    assert await projects.get(made.id) == changed and changed.model_ids == ("gpt-*",)
    archived = await projects.archive(made.id)
    assert archived is not None and archived.archived
    assert [p.id for p in await projects.list()] == [DEFAULT_PROJECT]
    assert [p.id for p in await projects.list(include_archived=True)] == [DEFAULT_PROJECT, made.id]
    assert await projects.update("proj_nope", {"name": "x"}) is None

    limit = await projects.set_rate_limit(made.id, "gpt-4o", {"rpm_limit": 3})
    again = await projects.set_rate_limit(made.id, "gpt-4o", {"tpm_limit": 9})
    assert (limit.rpm_limit, again.rpm_limit, again.tpm_limit) == (3, 3, 9)
    assert await projects.rate_limits(made.id) == [again]
    assert await projects.rate_limits(DEFAULT_PROJECT) == []


async def test_key_settings_round_trip(database: Database) -> None:
    keys = ApiKeyRepository(database)
    expires = datetime.now(UTC) + timedelta(days=1)
    settings = KeySettings(enabled=False, expires_at=expires, allowed_models=("a", "b*"),
                           allowed_ips=("10.0.0.0/8",), rpm_limit=1, tpm_limit=2, concurrency_limit=3,
                           budget_usd=Decimal("0.5"), budget_interval="total")
    record, secret = await keys.create("proj_x", "k", settings=settings, service_account_id="svc_acct_1")
    found = await keys.find_by_secret(secret)
    assert found is not None and found.settings == settings and found.service_account_id == "svc_acct_1"
    assert found.kind == "project"
    updated = await keys.update(record.id, "proj_x", "renamed", KeySettings())
    assert updated is not None and updated.name == "renamed" and updated.settings == KeySettings()
    assert await keys.update(record.id, "proj_other", "x", KeySettings()) is None
    assert await keys.revoke_service_account("svc_acct_1") == 1
    assert await keys.find_by_secret(secret) is None
    admin, admin_secret = await keys.create("organization", "ops", kind="admin")
    assert admin_secret.startswith("sk-sy-admin-") and admin.kind == "admin"
    assert (await keys.find_by_id(admin.id)) == admin


async def test_service_accounts_and_users(database: Database) -> None:
    accounts = ServiceAccountRepository(database)
    bot = await accounts.create("proj_a", "bot")
    assert await accounts.get("proj_b", bot.id) is None
    assert [a.id for a in await accounts.list("proj_a")] == [bot.id]
    assert (await accounts.update("proj_a", bot.id, "robot", "owner")).name == "robot"  # type: ignore[union-attr]
    assert await accounts.delete("proj_b", bot.id) is False
    assert await accounts.delete("proj_a", bot.id) is True

    users = UserRepository(database)
    ada = await users.create("ada@example.com", "Ada", "owner")
    assert ada is not None and await users.create("ada@example.com", None, "reader") is None
    member = await users.add_member("proj_a", ada.id, "member")
    assert member is not None and await users.add_member("proj_a", ada.id, "member") is None
    assert [m.user.id for m in await users.members("proj_a")] == [ada.id]
    assert (await users.set_member_role("proj_a", ada.id, "owner")).role == "owner"  # type: ignore[union-attr]
    assert await users.delete(ada.id) is True
    assert await users.members("proj_a") == []


async def test_default_project_is_repaired(database: Database) -> None:
    from sqlalchemy import text

    async with database.session() as session:
        await session.execute(text("DELETE FROM projects WHERE id = 'proj_default'"))
    projects = ProjectRepository(database)
    assert await projects.get(DEFAULT_PROJECT) is None
    await projects.ensure_default()
    await projects.ensure_default()
    default = await projects.get(DEFAULT_PROJECT)
    assert default is not None and default.name == "Default project"
