from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

from switchyard.config import ModelConfig
from switchyard.providers.local_embeddings import LocalEmbedder
from switchyard.store.blobs import BlobStore
from switchyard.store.database import Database
from switchyard.store.files import FileRecord, FileRepository
from tests.pg import fresh_postgres_url, pgvector_server
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


class _LazyServer:
    """Starts the pgvector server the first time a test needs it."""

    def __init__(self) -> None:
        self._stack = ExitStack()
        self._url: str | None = None

    def url(self) -> str:
        if self._url is None:
            self._url = self._stack.enter_context(pgvector_server())
        return self._url

    def close(self) -> None:
        self._stack.close()


@pytest.fixture(scope="session")
def pgvector_admin() -> Iterator[_LazyServer]:
    """A PostgreSQL server with the pgvector extension, for the session (started on first use)."""
    server = _LazyServer()
    yield server
    server.close()


@pytest.fixture(params=[*BACKENDS, pytest.param("pgvector", marks=pytest.mark.postgres)])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path,
                       pgvector_admin: _LazyServer) -> AsyncIterator[str]:
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
