"""The ``file_search`` tool inside the loop: the model asks with queries, the
vector stores answer, and the answer's text cites the files it drew from."""

from __future__ import annotations

from typing import Any

import orjson

from switchyard.core.items import FunctionCall, FunctionCallOutput, TextPart
from switchyard.core.request import Tool
from switchyard.retrieval.search import SearchHit

NAME = "file_search"
RESULTS_INCLUDE = "file_search_call.results"

TOOL = Tool(
    name=NAME,
    description="Search the user's files. Answer from the passages it returns.",
    parameters={"type": "object", "additionalProperties": False, "required": ["queries"],
                "properties": {"queries": {"type": "array", "items": {"type": "string"},
                                           "description": "Short keyword queries, e.g. [\"refund policy\"]."}}},
)


def queries_of(call: FunctionCall) -> list[str]:
    try:
        args: Any = orjson.loads(call.arguments or "{}")
    except orjson.JSONDecodeError:
        return [call.arguments] if call.arguments else []
    queries = args.get("queries") if isinstance(args, dict) else None
    if isinstance(queries, str):
        return [queries]
    if isinstance(queries, list):
        return [q for q in queries if isinstance(q, str) and q.strip()]
    query = args.get("query") if isinstance(args, dict) else None
    return [query] if isinstance(query, str) and query.strip() else []


def result_items(hits: list[SearchHit]) -> list[dict[str, Any]]:
    return [{"file_id": h.file_id, "filename": h.filename, "score": h.score, "attributes": h.attributes,
             "text": "".join(c.get("text", "") for c in h.content)} for h in hits]


def model_output(call: FunctionCall, hits: list[SearchHit]) -> FunctionCallOutput:
    if not hits:
        text = "No relevant passages were found in the files."
    else:
        text = "\n\n".join(f"<passage file=\"{h.filename}\" score=\"{h.score:.3f}\">\n"
                           + "".join(c.get("text", "") for c in h.content) + "\n</passage>" for h in hits)
    return FunctionCallOutput(call.call_id, [TextPart(text)])


def citations(hits: list[SearchHit]) -> list[dict[str, Any]]:
    seen: dict[str, dict[str, Any]] = {}
    for hit in hits:
        seen.setdefault(hit.file_id, {"type": "file_citation", "file_id": hit.file_id, "filename": hit.filename})
    return list(seen.values())
