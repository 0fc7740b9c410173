"""The ``file_search`` tool: the model asks with queries, the vector stores answer,
and the answer's text cites the files it drew from (see the Responses encoder)."""

from __future__ import annotations

from typing import Any

import orjson

from switchyard.core.events import ItemDone, ItemStart
from switchyard.core.items import FunctionCall, FunctionCallOutput, Item, TextPart
from switchyard.core.request import Tool
from switchyard.core.tool_config import FileSearchConfig
from switchyard.core.tool_items import BuiltinItem, FileSearchCall, FileSearchResult
from switchyard.retrieval.service import Retrieval
from switchyard.tools.builtin import BuiltinTool, RunScope, ToolKind, ToolServices, ToolStep

NAME = "file_search"
MAX_SEARCH_ROUNDS = 3
"""Small models otherwise search forever instead of answering."""

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


def model_output(call: FunctionCall, results: list[FileSearchResult]) -> FunctionCallOutput:
    if not results:
        text = "No relevant passages were found in the files."
    else:
        text = "\n\n".join(f"<passage file=\"{r.filename}\" score=\"{r.score:.3f}\">\n{r.text}\n</passage>"
                           for r in results)
    return FunctionCallOutput(call.call_id, [TextPart(text)])


class FileSearch:
    def __init__(self, scope: RunScope, config: FileSearchConfig, retrieval: Retrieval | None) -> None:
        self.scope = scope
        self.config = config
        self.retrieval = retrieval
        self.searches = 0

    async def prepare(self) -> list[Item]:
        return []

    def offers(self) -> list[Tool]:
        """Gone once it ran as the forced tool, or after ``MAX_SEARCH_ROUNDS``."""
        choice = self.scope.tool_choice
        forced = choice is not None and choice.mode == "tool" and choice.name == NAME
        return [] if self.searches >= (1 if forced else MAX_SEARCH_ROUNDS) else [TOOL]

    def handles(self, name: str) -> bool:
        return name == NAME

    async def run(self, call: FunctionCall) -> ToolStep:
        self.searches += 1
        queries = queries_of(call)
        item_id = self.scope.new_id("fs_")
        await self.scope.emit(ItemStart(FileSearchCall(item_id, list(queries), None, "in_progress")))
        results: list[FileSearchResult] = []
        if queries and self.retrieval is not None:
            hits = await self.retrieval.search.search(
                self.config.vector_store_ids, self.scope.owner_id, queries,
                max_num_results=self.config.max_num_results, filters=self.config.filters,
                ranking_options=self.config.ranking_options)
            results = [FileSearchResult(h.file_id, h.filename, h.score, "".join(c.get("text", "") for c in h.content),
                                        h.attributes) for h in hits]
        await self.scope.emit(ItemDone(FileSearchCall(item_id, queries, results, "completed")))
        return ToolStep([model_output(call, results)])


async def _open(scope: RunScope, services: ToolServices) -> BuiltinTool | None:
    config = scope.configs.file_search
    return None if config is None else FileSearch(scope, config, services.retrieval)


def replay(item: BuiltinItem) -> list[Item]:
    """A past search as the model's call of ``file_search`` and its answer."""
    assert isinstance(item, FileSearchCall)
    call = FunctionCall(call_id=item.id, name=NAME, arguments=orjson.dumps({"queries": item.queries}).decode())
    if item.results is None:
        text = "(The results of this search were not kept.)"
    else:
        text = "\n\n".join(f"[{r.filename}] {r.text}" for r in item.results) or "No results."
    return [call, FunctionCallOutput(call_id=item.id, output=[TextPart(text)])]


FILE_SEARCH = ToolKind(NAME, _open, {FileSearchCall: replay})
