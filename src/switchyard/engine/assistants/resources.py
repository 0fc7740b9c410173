"""``tool_resources`` made real: files and vector stores checked to be the owner's,
vector stores created from ``vector_stores`` entries and from messages' file_search
attachments (as OpenAI does: one store per thread, created on the first such
attachment, expiring seven days after its last use)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from switchyard.codecs.openai_assistants.message_in import Attachment
from switchyard.codecs.openai_assistants.resources_in import NewVectorStore, ResourcesIn, resources_wire
from switchyard.engine.assistants.errors import file_not_found, store_not_found
from switchyard.retrieval.chunking import parse_chunking_strategy
from switchyard.retrieval.service import Retrieval
from switchyard.store.database import Database
from switchyard.store.files import FileRepository
from switchyard.store.vector_stores import NewFile, VectorStoreRepository

THREAD_STORE_DAYS = 7
THREAD_STORE_NAME = "thread vector store"


class Resources:
    def __init__(self, database: Database, retrieval: Retrieval) -> None:
        self._files = FileRepository(database)
        self._stores = VectorStoreRepository(database)
        self._retrieval = retrieval

    async def check_files(self, owner_id: str, refs: Sequence[tuple[str, str]]) -> None:
        """Each ``(file_id, field)`` names one of the owner's files, else 404 naming the field."""
        for file_id, param in refs:
            if await self._files.get(file_id, owner_id) is None:
                raise file_not_found(file_id, param)

    async def _new_files(self, owner_id: str, file_ids: Sequence[str], param: str,
                         strategy: dict[str, Any]) -> list[NewFile]:
        out = []
        for index, file_id in enumerate(file_ids):
            record = await self._files.get(file_id, owner_id)
            if record is None:
                raise file_not_found(file_id, f"{param}[{index}]")
            out.append(NewFile(file_id=file_id, filename=record.filename, chunking_strategy=strategy))
        return out

    async def resolve(self, owner_id: str, given: ResourcesIn, path: str = "tool_resources",
                      current: dict[str, Any] | None = None) -> dict[str, Any]:
        """The wire ``tool_resources`` to store: the sections ``given`` replace those of
        ``current``; ``vector_stores`` entries are created now."""
        code_ids = (current or {}).get("code_interpreter", {}).get("file_ids")
        store_ids = (current or {}).get("file_search", {}).get("vector_store_ids")
        if given.code_interpreter_file_ids is not None:
            code_ids = given.code_interpreter_file_ids
            await self.check_files(owner_id, [(f, f"{path}.code_interpreter.file_ids[{i}]")
                                              for i, f in enumerate(code_ids)])
        if given.file_search_given:
            store_ids = list(given.vector_store_ids or [])
            found = await self._stores.get_many(store_ids, owner_id)
            for index, store_id in enumerate(store_ids):
                if store_id not in found:
                    raise store_not_found(store_id, f"{path}.file_search.vector_store_ids[{index}]")
            for entry in given.new_vector_stores:
                store_ids.append(await self._create_store(owner_id, entry))
        return resources_wire(code_ids, store_ids)

    async def _create_store(self, owner_id: str, entry: NewVectorStore) -> str:
        strategy = parse_chunking_strategy(entry.chunking_strategy, f"{entry.path}.chunking_strategy")
        files = await self._new_files(owner_id, entry.file_ids, f"{entry.path}.file_ids", strategy)
        record = await self._stores.create(owner_id, metadata=entry.metadata, files=files,
                                           embedding_model=self._retrieval.embedding_model)
        self._retrieval.ingester.wake()
        return record.id

    async def check_attachments(self, owner_id: str, attachments: Sequence[Attachment]) -> None:
        await self.check_files(owner_id, [(a.file_id, f"{a.path}.file_id") for a in attachments])

    async def attach_for_search(self, owner_id: str, tool_resources: dict[str, Any],
                                attachments: Sequence[Attachment]) -> dict[str, Any] | None:
        """Adds the file_search attachments' files to the thread's vector store (creating
        one when the thread has none, or its store is gone). The thread's new
        ``tool_resources`` when they changed, else None."""
        wanted = [a for a in attachments if "file_search" in a.tools]
        if not wanted:
            return None
        strategy = parse_chunking_strategy(None)
        file_ids = list(dict.fromkeys(a.file_id for a in wanted))
        files = await self._new_files(owner_id, file_ids, "attachments", strategy)
        current = list(tool_resources.get("file_search", {}).get("vector_store_ids") or [])
        store_id = current[0] if current else None
        if store_id is not None and await self._stores.get(store_id, owner_id) is None:
            store_id = None
        changed = None
        if store_id is None:
            record = await self._stores.create(owner_id, name=THREAD_STORE_NAME, expires_after_days=THREAD_STORE_DAYS,
                                               embedding_model=self._retrieval.embedding_model, files=files)
            store_id = record.id
            changed = {**tool_resources, "file_search": {"vector_store_ids": [store_id]}}
        else:
            for new in files:
                if await self._stores.get_file(store_id, new.file_id, owner_id) is None:
                    await self._stores.add_file(store_id, owner_id, new)
        self._retrieval.ingester.wake()
        return changed

    async def merge_store(self, owner_id: str, loser: str, winner: str, attachments: Sequence[Attachment]) -> None:
        """A store made for a thread that got another one meanwhile: the attachments'
        files go to the ``winner`` and the ``loser`` is deleted."""
        strategy = parse_chunking_strategy(None)
        file_ids = list(dict.fromkeys(a.file_id for a in attachments if "file_search" in a.tools))
        for new in await self._new_files(owner_id, file_ids, "attachments", strategy):
            if await self._stores.get_file(winner, new.file_id, owner_id) is None:
                await self._stores.add_file(winner, owner_id, new)
        await self._stores.delete(loser, owner_id)
        self._retrieval.ingester.wake()
