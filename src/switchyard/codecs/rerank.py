"""The rerank API (``POST /v1/rerank``, Jina/Cohere shape): request validation and the response.

Request: ``model``, ``query``, ``documents`` (strings, or objects with a ``text`` string),
optional ``top_n`` (>= 1; more than the documents means all) and ``return_documents``.
``return_documents`` defaults to **true**, as in Jina's API (Cohere v1 defaults to false and
v2 dropped the field): each result then carries ``document: {"text": ...}``.
Other fields (``max_chunks_per_doc``, ``max_tokens_per_doc``, ``rank_fields``...) are ignored.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from switchyard.codecs.openai_chat.fields import arr, join, obj, opt_bool, opt_int, req_str, wrong_type
from switchyard.core.errors import invalid

MAX_DOCUMENTS = 1000


@dataclass(frozen=True, slots=True)
class RerankCall:
    model: str
    query: str
    documents: list[str]
    top_n: int | None = None
    return_documents: bool = True


def _document(value: object, path: str) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        text = value.get("text")
        if isinstance(text, str):
            return text
        raise wrong_type(join(path, "text"), "a string", text)
    raise wrong_type(path, "a string or an object with 'text'", value)


def decode_request(body: object) -> RerankCall:
    body = obj(body, "body")
    model = req_str(body, "model")
    query = req_str(body, "query")
    if not query.strip():
        raise invalid("Invalid 'query': the query must not be empty.", "query", "invalid_value")
    if body.get("documents") is None:
        raise invalid("Missing required parameter: 'documents'.", "documents", "missing_required_parameter")
    raw = arr(body["documents"], "documents")
    if not raw:
        raise invalid("Invalid 'documents': at least one document is required.", "documents", "invalid_value")
    if len(raw) > MAX_DOCUMENTS:
        raise invalid(
            f"Invalid 'documents': at most {MAX_DOCUMENTS} documents per request, got {len(raw)}.",
            "documents", "array_above_max_length",
        )
    documents = [_document(d, join("documents", i)) for i, d in enumerate(raw)]
    top_n = opt_int(body, "top_n", lo=1)
    return_documents = opt_bool(body, "return_documents")
    return RerankCall(
        model=model,
        query=query,
        documents=documents,
        top_n=min(top_n, len(documents)) if top_n is not None else None,
        return_documents=True if return_documents is None else return_documents,
    )


def encode_response(
    call: RerankCall, results: list[tuple[int, float]], *, id: str, input_tokens: int
) -> dict[str, Any]:
    """``{id, model, results: [{index, relevance_score, document?}], usage}``, best first."""
    ordered = sorted(results, key=lambda r: (-r[1], r[0]))
    out: list[dict[str, Any]] = []
    for index, score in ordered:
        item: dict[str, Any] = {"index": index, "relevance_score": score}
        if call.return_documents:
            item["document"] = {"text": call.documents[index]}
        out.append(item)
    return {"id": id, "model": call.model, "results": out, "usage": {"total_tokens": input_tokens}}
