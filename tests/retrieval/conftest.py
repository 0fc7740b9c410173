from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from switchyard.config import ModelConfig
from switchyard.providers.local_embeddings import LocalEmbedder
from switchyard.store.blobs import BlobStore
from switchyard.store.database import Database
from switchyard.store.files import FileRecord, FileRepository
from tests.store.conftest import database, database_url  # noqa: F401  (fixtures)


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
