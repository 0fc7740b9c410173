from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from switchyard.config import ModelConfig
from switchyard.providers.local_embeddings import LocalEmbedder
from switchyard.store.blobs import BlobStore
from switchyard.store.database import Database
from switchyard.store.files import FileRecord, FileRepository
from tests.pg import LazyPgvectorServer, fresh_postgres_url
from tests.store.conftest import BACKENDS, database  # noqa: F401  (fixtures)


@pytest.fixture(scope="session")
async def embedder(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[LocalEmbedder]:
    """The real embedded model (MiniLM, ONNX), loaded once for the session."""
    model = LocalEmbedder(ModelConfig(name="minilm", provider="local", task="embedding"),
                          tmp_path_factory.mktemp("embed"))
    await model.start()
    yield model
    await model.aclose()


@pytest.fixture
def blobs(tmp_path: Path) -> BlobStore:
    return BlobStore(tmp_path / "blobs")


async def _one(data: bytes) -> AsyncIterator[bytes]:
    yield data


async def upload(db: Database, blobs: BlobStore, owner: str, filename: str, data: bytes,
                 mime_type: str = "application/octet-stream") -> FileRecord:
    """A stored file, as the Files API would leave it."""
    blob = await blobs.write_stream(_one(data), 1 << 30)
    return await FileRepository(db).create(owner, filename=filename, purpose="assistants", blob=blob,
                                           mime_type=mime_type)


@pytest.fixture(params=[*BACKENDS, pytest.param("pgvector", marks=pytest.mark.postgres)])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path,
                       pgvector_admin: LazyPgvectorServer) -> AsyncIterator[str]:
    """An empty database of each backend; ``pgvector`` is PostgreSQL with the extension
    (the plain ``postgres`` server has none, so it covers the exact path on PostgreSQL)."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'data' / 'switchyard.db'}"
    elif request.param == "postgres":
        async with fresh_postgres_url() as url:
            yield url
    else:
        async with fresh_postgres_url(pgvector_admin.url()) as url:
            yield url
