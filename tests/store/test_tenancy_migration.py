"""The tenancy migration: what the old master key owned moves to the default project."""

from __future__ import annotations

from alembic.script import ScriptDirectory
from sqlalchemy import text

from switchyard.store import Database
from switchyard.store import migrate as migrations
from switchyard.store.conversations import ConversationRepository
from switchyard.store.projects import DEFAULT_PROJECT, ProjectRepository


def _tenancy_revision() -> tuple[str, str]:
    """The tenancy migration's revision and the one before it, found by content (the
    chain may be renumbered)."""
    script = ScriptDirectory.from_config(migrations.alembic_config())
    for revision in script.walk_revisions():
        if getattr(revision.module, "OLD_OWNER", None) == "owner_master":
            assert isinstance(revision.down_revision, str)
            return revision.revision, revision.down_revision
    raise AssertionError("no tenancy migration")


async def test_master_owned_rows_move_to_the_default_project(database: Database) -> None:
    _, before = _tenancy_revision()
    await migrations.downgrade(database.engine, before)
    async with database.session() as session:
        await session.execute(text(
            "INSERT INTO conversations (id, owner_id, created_at, metadata, next_position) "
            "VALUES ('conv_old', 'owner_master', 1, '{}', 0), ('conv_other', 'someone', 1, '{}', 0)"))
    await migrations.upgrade(database.engine)

    conversations = ConversationRepository(database)
    assert (await conversations.get("conv_old", DEFAULT_PROJECT)) is not None
    assert (await conversations.get("conv_old", "owner_master")) is None
    assert (await conversations.get("conv_other", "someone")) is not None
    default = await ProjectRepository(database).get(DEFAULT_PROJECT)
    assert default is not None and default.name == "Default project" and not default.archived


async def test_downgrade_moves_them_back(database: Database) -> None:
    _, before = _tenancy_revision()
    async with database.session() as session:
        await session.execute(text(
            "INSERT INTO conversations (id, owner_id, created_at, metadata, next_position) "
            "VALUES ('conv_new', 'proj_default', 1, '{}', 0)"))
    await migrations.downgrade(database.engine, before)
    async with database.session() as session:
        owner = await session.scalar(text("SELECT owner_id FROM conversations WHERE id = 'conv_new'"))
    assert owner == "owner_master"
    await migrations.upgrade(database.engine)
