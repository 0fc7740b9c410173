from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

from sqlalchemy import text

from switchyard.store import ApiKeyRecord, ApiKeyRepository, Database


async def test_create_and_find(database: Database) -> None:
    keys = ApiKeyRepository(database)
    record, secret = await keys.create("owner-a", "ci", ["models:read", "chat"])
    assert isinstance(record, ApiKeyRecord)
    assert secret.startswith("sk-sy-") and len(secret) > 40
    assert record.id.startswith("key_")
    assert record.owner_id == "owner-a" and record.name == "ci"
    assert record.scopes == ("models:read", "chat")
    assert secret.startswith(record.key_prefix) and len(record.key_prefix) < 16
    assert record.created_at.tzinfo is not None
    assert abs(datetime.now(UTC) - record.created_at) < timedelta(minutes=1)
    assert record.last_used_at is None and not record.revoked

    assert await keys.find_by_secret(secret) == record
    assert await keys.find_by_secret(secret + "x") is None
    assert await keys.find_by_secret("") is None


async def test_default_scopes_are_empty(database: Database) -> None:
    record, secret = await ApiKeyRepository(database).create("o", "n")
    assert record.scopes == ()
    assert (await ApiKeyRepository(database).find_by_secret(secret)).scopes == ()  # type: ignore[union-attr]


async def test_secrets_are_unique(database: Database) -> None:
    keys = ApiKeyRepository(database)
    made = [await keys.create("o", f"k{i}") for i in range(5)]
    assert len({secret for _, secret in made}) == 5
    assert len({record.id for record, _ in made}) == 5


async def test_secret_stored_only_as_hash(database: Database) -> None:
    _, secret = await ApiKeyRepository(database).create("owner-a", "ci", ["chat"])
    async with database.session() as session:
        rows = (await session.execute(text("SELECT * FROM api_keys"))).mappings().all()
    assert len(rows) == 1
    row = dict(rows[0])
    assert row["key_hash"] == hashlib.sha256(secret.encode()).hexdigest()
    body = secret.removeprefix("sk-sy-")
    for value in row.values():
        assert body not in str(value)
        assert body[-12:] not in str(value)


async def test_revoke(database: Database) -> None:
    keys = ApiKeyRepository(database)
    record, secret = await keys.create("owner-a", "ci")
    assert await keys.revoke(record.id, "owner-a") is True
    assert await keys.find_by_secret(secret) is None
    assert await keys.revoke(record.id, "owner-a") is False  # already revoked
    assert await keys.revoke("key_missing", "owner-a") is False
    (listed,) = await keys.list("owner-a")
    assert listed.revoked and listed.revoked_at is not None
    assert listed.revoked_at >= record.created_at


async def test_owners_are_isolated(database: Database) -> None:
    keys = ApiKeyRepository(database)
    a1, _ = await keys.create("owner-a", "one")
    a2, _ = await keys.create("owner-a", "two")
    b1, b_secret = await keys.create("owner-b", "one")

    assert [k.id for k in await keys.list("owner-a")] == [a1.id, a2.id]
    assert [k.id for k in await keys.list("owner-b")] == [b1.id]
    assert await keys.list("owner-c") == []

    assert await keys.get(b1.id, "owner-a") is None
    assert await keys.get(b1.id, "owner-b") == b1
    assert await keys.revoke(b1.id, "owner-a") is False
    found = await keys.find_by_secret(b_secret)
    assert found is not None and found.owner_id == "owner-b"


async def test_touch(database: Database) -> None:
    keys = ApiKeyRepository(database)
    record, secret = await keys.create("o", "n")
    other, _ = await keys.create("o", "other")
    await keys.touch(record.id)
    touched = await keys.find_by_secret(secret)
    assert touched is not None and touched.last_used_at is not None
    assert touched.last_used_at >= record.created_at
    assert touched.last_used_at.tzinfo is not None
    assert (await keys.get(other.id, "o")).last_used_at is None  # type: ignore[union-attr]
    await keys.touch("key_missing")  # no error
