"""What the surfaces and the file_search tool need from retrieval, in one place."""

from __future__ import annotations

from dataclasses import dataclass

from switchyard.retrieval.ingest import Ingester
from switchyard.retrieval.search import VectorStoreSearch


@dataclass(slots=True)
class Retrieval:
    ingester: Ingester
    search: VectorStoreSearch
    embedding_model: str | None  # the model new vector stores embed with
