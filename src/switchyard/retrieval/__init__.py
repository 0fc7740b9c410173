"""Retrieval over vector stores: text extraction, token chunking, ingestion (a
durable in-process worker), hybrid search (vector + full-text, reciprocal-rank
fusion) with attribute filters applied in the query; vector search through pgvector's
HNSW index, an in-process HNSW graph per large store (``ann.py``), or exactly; full-text of
large SQLite stores through a tantivy index per store (``text_index.py``). Persistence is in
``store/vector_stores.py`` and ``store/vector_store_chunks.py``.

The API the surfaces and the file_search tool build on:

- ``VectorStoreRepository(db)`` (store): stores, files, batches; CRUD, owner-isolated.
- ``parse_chunking_strategy``, ``validate_attributes``, ``parse_filters``,
  ``parse_ranking_options``: request validation, 400s naming the field.
- ``Ingester(db, blobs, embedder_for)``: ``start()``, ``wake()`` after attaching
  files, ``await stop()``, ``await run_once()``.
- ``VectorStoreSearch(db, embedder_for).search(...)`` -> ``list[SearchHit]``;
  ``search_queries`` gives what to report as ``search_query``.
- ``ChunkIndex(db).file_chunks(...)``: a file's chunks, for its ``content``.
"""

from switchyard.retrieval.chunking import parse_chunking_strategy, static_strategy
from switchyard.retrieval.extract import ExtractionError, extract_text
from switchyard.retrieval.filters import parse_filters, validate_attributes
from switchyard.retrieval.ingest import Ingester
from switchyard.retrieval.ranking import RankingOptions, parse_ranking_options, search_queries
from switchyard.retrieval.search import SearchHit, VectorStoreSearch

__all__ = [
    "ExtractionError",
    "Ingester",
    "RankingOptions",
    "SearchHit",
    "VectorStoreSearch",
    "extract_text",
    "parse_chunking_strategy",
    "parse_filters",
    "parse_ranking_options",
    "search_queries",
    "static_strategy",
    "validate_attributes",
]
