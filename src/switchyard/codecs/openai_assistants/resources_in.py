"""``tool_resources`` of an assistant or a thread: the code interpreter's files and
file_search's vector store, given by id or (``vector_stores``) to be created."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from switchyard.codecs.metadata import decode_metadata
from switchyard.codecs.openai_assistants.common import id_list, known_fields
from switchyard.codecs.openai_chat.fields import obj, wrong_type
from switchyard.core.errors import invalid

MAX_CODE_FILES = 20
MAX_VECTOR_STORES = 1
MAX_STORE_FILES = 10_000


@dataclass(slots=True)
class NewVectorStore:
    """A ``vector_stores`` entry: a store to create with these files."""

    file_ids: list[str]
    chunking_strategy: dict[str, Any] | None
    metadata: dict[str, str]
    path: str  # the entry's field, for errors about its files


@dataclass(slots=True)
class ResourcesIn:
    """What a request's ``tool_resources`` says; a ``None`` section was not given."""

    code_interpreter_file_ids: list[str] | None = None
    vector_store_ids: list[str] | None = None
    new_vector_stores: list[NewVectorStore] = field(default_factory=list)

    @property
    def file_search_given(self) -> bool:
        return self.vector_store_ids is not None or bool(self.new_vector_stores)


def decode_tool_resources(raw: object, path: str = "tool_resources") -> ResourcesIn:
    """The validated resources (empty for null)."""
    if raw is None:
        return ResourcesIn()
    resources = obj(raw, path)
    known_fields(resources, ("code_interpreter", "file_search"), path)
    out = ResourcesIn()
    code = resources.get("code_interpreter")
    if code is not None:
        section = obj(code, f"{path}.code_interpreter")
        known_fields(section, ("file_ids",), f"{path}.code_interpreter")
        raw_ids = section.get("file_ids")
        out.code_interpreter_file_ids = ([] if raw_ids is None else
                                         id_list(raw_ids, f"{path}.code_interpreter.file_ids", MAX_CODE_FILES))
    search = resources.get("file_search")
    if search is not None:
        _file_search(obj(search, f"{path}.file_search"), f"{path}.file_search", out)
    return out


def _file_search(section: dict[str, Any], path: str, out: ResourcesIn) -> None:
    known_fields(section, ("vector_store_ids", "vector_stores"), path)
    ids = section.get("vector_store_ids")
    stores = section.get("vector_stores")
    if ids is not None:
        out.vector_store_ids = id_list(ids, f"{path}.vector_store_ids", MAX_VECTOR_STORES)
    if stores is not None:
        if not isinstance(stores, list):
            raise wrong_type(f"{path}.vector_stores", "an array", stores)
        out.new_vector_stores = [_new_store(entry, f"{path}.vector_stores[{i}]") for i, entry in enumerate(stores)]
    if len(out.vector_store_ids or []) + len(out.new_vector_stores) > MAX_VECTOR_STORES:
        raise invalid(f"Invalid '{path}': at most {MAX_VECTOR_STORES} vector store may be attached "
                      "(through 'vector_store_ids' or 'vector_stores').", path, "array_above_max_length")
    if ids is None and stores is None:
        out.vector_store_ids = []


def _new_store(raw: object, path: str) -> NewVectorStore:
    entry = obj(raw, path)
    known_fields(entry, ("file_ids", "chunking_strategy", "metadata"), path)
    file_ids = [] if entry.get("file_ids") is None else id_list(entry["file_ids"], f"{path}.file_ids",
                                                                  MAX_STORE_FILES)
    strategy = entry.get("chunking_strategy")
    if strategy is not None:
        strategy = obj(strategy, f"{path}.chunking_strategy")
    return NewVectorStore(file_ids=file_ids, chunking_strategy=strategy,
                          metadata=decode_metadata(entry.get("metadata"), f"{path}.metadata") or {}, path=path)


def resources_wire(code_file_ids: list[str] | None, vector_store_ids: list[str] | None) -> dict[str, Any]:
    """The wire ``tool_resources``: only the sections that are set."""
    out: dict[str, Any] = {}
    if code_file_ids is not None:
        out["code_interpreter"] = {"file_ids": list(code_file_ids)}
    if vector_store_ids is not None:
        out["file_search"] = {"vector_store_ids": list(vector_store_ids)}
    return out
