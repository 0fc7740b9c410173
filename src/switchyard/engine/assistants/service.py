"""``AssistantsService``: the Assistants API's objects for the surfaces, and what a
run needs from them (docs/assistants.md, "For runs").

Every method takes the caller's ``owner_id`` (its project); another project's
assistant, thread or message answers 404 like an unknown id."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from switchyard.codecs.openai_assistants.assistant_in import AssistantIn
from switchyard.codecs.openai_assistants.message_in import MessageIn, attachments_wire
from switchyard.codecs.openai_assistants.message_items import message_item
from switchyard.codecs.openai_assistants.objects_out import MessageStatus, message_object
from switchyard.codecs.openai_assistants.thread_in import ThreadIn
from switchyard.core.errors import invalid
from switchyard.core.items import Message
from switchyard.engine.assistants.errors import not_found
from switchyard.engine.assistants.resources import Resources
from switchyard.gateway.router import ModelRegistry
from switchyard.retrieval.service import Retrieval
from switchyard.store.assistants import AssistantRecord, AssistantRepository
from switchyard.store.cursor_pages import Order
from switchyard.store.database import Database
from switchyard.store.ids import new_id
from switchyard.store.thread_messages import MessageRecord, MessageRepository
from switchyard.store.threads import ThreadRecord, ThreadRepository
from switchyard.store.vector_store_records import UNSET

ASSISTANT_DEFAULTS: dict[str, Any] = {
    "name": None, "description": None, "instructions": None, "tools": [], "tool_resources": {}, "metadata": {},
    "temperature": 1.0, "top_p": 1.0, "response_format": "auto", "reasoning_effort": None,
}


@dataclass(frozen=True, slots=True)
class Page:
    limit: int = 20
    order: Order = "desc"
    after: str | None = None
    before: str | None = None


@dataclass(frozen=True, slots=True)
class RunResources:
    """What a run's built-in tools may use: the assistant's and the thread's vector
    stores (file_search), and the code interpreter's files (the assistant's, the
    thread's, and the thread's messages' ``code_interpreter`` attachments)."""

    vector_store_ids: list[str]
    code_interpreter_file_ids: list[str]


def _ids(resources: dict[str, Any], section: str, key: str) -> list[str]:
    return list((resources.get(section) or {}).get(key) or [])


class AssistantsService:
    def __init__(self, database: Database, models: ModelRegistry, retrieval: Retrieval) -> None:
        self._assistants = AssistantRepository(database)
        self._threads = ThreadRepository(database)
        self._messages = MessageRepository(database)
        self._models = models
        self._resources = Resources(database, retrieval)

    # -- assistants -------------------------------------------------------------

    def _check_model(self, model: str | None) -> None:
        if model is not None and self._models.find(model) is None:
            raise invalid(f"The requested model '{model}' does not exist.", "model", "model_not_found")

    async def create_assistant(self, owner_id: str, given: AssistantIn) -> AssistantRecord:
        self._check_model(given.fields.get("model"))
        body = {**ASSISTANT_DEFAULTS, **given.fields}
        for key in ("temperature", "top_p"):
            if body[key] is None:
                body[key] = 1.0
        if given.resources is not None:
            body["tool_resources"] = await self._resources.resolve(owner_id, given.resources)
        return await self._assistants.create(new_id("asst_"), owner_id, body)

    async def get_assistant(self, owner_id: str, assistant_id: str, param: str = "assistant_id") -> AssistantRecord:
        record = await self._assistants.get(assistant_id, owner_id)
        if record is None:
            raise not_found("assistant", assistant_id, param)
        return record

    async def list_assistants(self, owner_id: str, page: Page) -> tuple[list[AssistantRecord], bool]:
        return await self._assistants.list(owner_id, limit=page.limit, order=page.order, after=page.after,
                                           before=page.before)

    async def modify_assistant(self, owner_id: str, assistant_id: str, given: AssistantIn) -> AssistantRecord:
        current = await self.get_assistant(owner_id, assistant_id)
        self._check_model(given.fields.get("model"))
        body = {**current.body, **given.fields}
        if given.resources is not None:
            body["tool_resources"] = await self._resources.resolve(owner_id, given.resources,
                                                                   current=current.body.get("tool_resources"))
        record = await self._assistants.replace(assistant_id, owner_id, body)
        if record is None:
            raise not_found("assistant", assistant_id, "assistant_id")
        return record

    async def delete_assistant(self, owner_id: str, assistant_id: str) -> None:
        if not await self._assistants.delete(assistant_id, owner_id):
            raise not_found("assistant", assistant_id, "assistant_id")

    # -- threads ----------------------------------------------------------------

    async def create_thread(self, owner_id: str, given: ThreadIn, path: str = "") -> tuple[ThreadRecord,
                                                                                          list[MessageRecord]]:
        """A new thread with its messages (their images and attachments checked, and
        file_search attachments put in the thread's vector store)."""
        prefix = f"{path}." if path else ""
        resources: dict[str, Any] = {}
        if given.resources is not None:
            resources = await self._resources.resolve(owner_id, given.resources, f"{prefix}tool_resources")
        for message in given.messages:
            await self._check_message(owner_id, message)
        attachments = [a for m in given.messages for a in m.attachments]
        changed = await self._resources.attach_for_search(owner_id, resources, attachments)
        if changed is not None:
            resources = changed
        thread_id = new_id("thread_")
        bodies = [self._message_body(thread_id, m) for m in given.messages]
        return await self._threads.create(thread_id, owner_id, tool_resources=resources,
                                          metadata=given.metadata or {}, messages=bodies)

    async def get_thread(self, owner_id: str, thread_id: str, param: str = "thread_id") -> ThreadRecord:
        record = await self._threads.get(thread_id, owner_id)
        if record is None:
            raise not_found("thread", thread_id, param)
        return record

    async def modify_thread(self, owner_id: str, thread_id: str, given: ThreadIn) -> ThreadRecord:
        current = await self.get_thread(owner_id, thread_id)
        resources = UNSET
        if given.resources is not None:
            resources = await self._resources.resolve(owner_id, given.resources, current=current.tool_resources)
        record = await self._threads.update(thread_id, owner_id, tool_resources=resources,
                                            metadata=given.metadata if given.metadata is not None else UNSET)
        if record is None:
            raise not_found("thread", thread_id, "thread_id")
        return record

    async def delete_thread(self, owner_id: str, thread_id: str) -> None:
        """Deletes the thread and its messages (its vector store stays, and expires)."""
        if not await self._threads.delete(thread_id, owner_id):
            raise not_found("thread", thread_id, "thread_id")

    # -- messages ---------------------------------------------------------------

    async def _check_message(self, owner_id: str, message: MessageIn) -> None:
        await self._resources.check_files(owner_id, message.image_files)
        await self._resources.check_attachments(owner_id, message.attachments)

    @staticmethod
    def _message_body(thread_id: str, message: MessageIn, *, created_at: int = 0) -> dict[str, Any]:
        return message_object(id=new_id("msg_"), thread_id=thread_id, created_at=created_at or int(time.time()),
                              role=message.role, content=message.content,
                              attachments=attachments_wire(message.attachments), metadata=message.metadata,
                              completed_at=None)

    async def create_message(self, owner_id: str, thread_id: str, given: MessageIn, *,
                             run_id: str | None = None) -> MessageRecord:
        """Appends a (completed) user or assistant message; its file_search attachments
        go into the thread's vector store, created on the fly when the thread has none."""
        thread = await self.get_thread(owner_id, thread_id)
        await self._check_message(owner_id, given)
        changed = await self._resources.attach_for_search(owner_id, thread.tool_resources, given.attachments)
        if changed is not None:
            await self._claim_search_store(thread, changed, given)
        body = self._message_body(thread_id, given)
        if run_id is not None:
            body["run_id"] = run_id
        return await self._append(owner_id, thread_id, body)

    async def _claim_search_store(self, thread: ThreadRecord, changed: dict[str, Any], given: MessageIn) -> None:
        """Records the store just made for the thread, unless a concurrent message made
        one first: then the files go there and this one is dropped."""
        made = _ids(changed, "file_search", "vector_store_ids")[0]
        stale = (_ids(thread.tool_resources, "file_search", "vector_store_ids") or [None])[0]
        winner = await self._threads.claim_search_store(thread.id, thread.owner_id, made, stale)
        if winner is None:
            raise not_found("thread", thread.id, "thread_id")
        if winner != made:
            await self._resources.merge_store(thread.owner_id, made, winner, given.attachments)

    async def _append(self, owner_id: str, thread_id: str, body: dict[str, Any]) -> MessageRecord:
        stored = await self._messages.append(thread_id, owner_id, [body])
        if stored is None:
            raise not_found("thread", thread_id, "thread_id")
        return stored[0]

    async def list_messages(self, owner_id: str, thread_id: str, page: Page,
                            run_id: str | None = None) -> tuple[list[MessageRecord], bool]:
        await self.get_thread(owner_id, thread_id)
        return await self._messages.list(thread_id, owner_id, limit=page.limit, order=page.order, after=page.after,
                                         before=page.before, run_id=run_id)

    async def get_message(self, owner_id: str, thread_id: str, message_id: str) -> MessageRecord:
        await self.get_thread(owner_id, thread_id)
        record = await self._messages.get(thread_id, message_id, owner_id)
        if record is None:
            raise not_found("message", message_id, "message_id")
        return record

    async def modify_message(self, owner_id: str, thread_id: str, message_id: str,
                             metadata: dict[str, str] | None) -> MessageRecord:
        current = await self.get_message(owner_id, thread_id, message_id)
        if metadata is None:
            return current
        return await self._replace(current, {**current.body, "metadata": metadata})

    async def _replace(self, current: MessageRecord, body: dict[str, Any]) -> MessageRecord:
        record = await self._messages.replace(current.thread_id, current.id, current.owner_id, body)
        if record is None:
            raise not_found("message", current.id, "message_id")
        return record

    async def delete_message(self, owner_id: str, thread_id: str, message_id: str) -> None:
        await self.get_thread(owner_id, thread_id)
        if not await self._messages.delete(thread_id, message_id, owner_id):
            raise not_found("message", message_id, "message_id")

    # -- for runs (docs/assistants.md, "For runs") --------------------------------

    async def thread_messages(self, owner_id: str, thread_id: str) -> list[MessageRecord]:
        """Every message of the thread, oldest first (404 for an unknown thread)."""
        await self.get_thread(owner_id, thread_id)
        return await self._messages.all(thread_id, owner_id)

    async def thread_items(self, owner_id: str, thread_id: str) -> list[Message]:
        """The thread's messages as canonical ``Message``s, oldest first, for a model
        (``image_file`` parts are ``FilePart(file_id=…)``: resolve them with
        ``engine.file_inputs.FileInputs.resolve`` before the turn)."""
        return [message_item(record.body) for record in await self.thread_messages(owner_id, thread_id)]

    async def add_message(self, owner_id: str, thread_id: str, given: MessageIn, *,
                          run_id: str | None = None) -> MessageRecord:
        """A client's message added by a run (``additional_messages``), tagged with the run."""
        return await self.create_message(owner_id, thread_id, given, run_id=run_id)

    async def start_assistant_message(self, owner_id: str, thread_id: str, *, run_id: str, assistant_id: str,
                                      content: list[dict[str, Any]] | None = None,
                                      status: MessageStatus = "in_progress",
                                      message_id: str | None = None) -> MessageRecord:
        """Appends the assistant's message of a run (``in_progress`` and empty by
        default); ``content`` is wire content blocks (``message_in.text_block``);
        ``message_id`` when the run already named it (in its stream)."""
        body = message_object(id=message_id or new_id("msg_"), thread_id=thread_id, created_at=int(time.time()),
                              role="assistant", content=list(content or []), status=status,
                              assistant_id=assistant_id, run_id=run_id)
        if status == "completed":
            body["completed_at"] = body["created_at"]
        return await self._append(owner_id, thread_id, body)

    async def update_message(self, owner_id: str, thread_id: str, message_id: str, *,
                             content: list[dict[str, Any]] | None = None, status: MessageStatus | None = None,
                             incomplete_reason: str | None = None) -> MessageRecord:
        """Replaces the message's content (as it streams) and/or sets its status:
        ``completed`` sets ``completed_at``; ``incomplete`` sets ``incomplete_at`` and
        ``incomplete_details.reason`` (e.g. ``max_tokens``, ``run_cancelled``)."""
        current = await self.get_message(owner_id, thread_id, message_id)
        body = dict(current.body)
        if content is not None:
            body["content"] = list(content)
        if status is not None:
            body["status"] = status
            now = int(time.time())
            if status == "completed":
                body["completed_at"] = now
            elif status == "incomplete":
                body["incomplete_at"] = now
                body["incomplete_details"] = {"reason": incomplete_reason or "run_failed"}
        return await self._replace(current, body)

    async def run_resources(self, owner_id: str, assistant: AssistantRecord, thread: ThreadRecord,
                            messages: list[MessageRecord] | None = None) -> RunResources:
        """The tool resources of a run of ``assistant`` on ``thread`` (``messages``: the
        thread's, when already read)."""
        mine, theirs = assistant.body.get("tool_resources") or {}, thread.tool_resources
        stores = _ids(mine, "file_search", "vector_store_ids") + _ids(theirs, "file_search", "vector_store_ids")
        files = _ids(mine, "code_interpreter", "file_ids") + _ids(theirs, "code_interpreter", "file_ids")
        if messages is None:
            messages = await self._messages.all(thread.id, owner_id)
        for record in messages:
            for attachment in record.body.get("attachments") or []:
                if any(t.get("type") == "code_interpreter" for t in attachment.get("tools") or []):
                    files.append(attachment["file_id"])
        return RunResources(vector_store_ids=list(dict.fromkeys(stores)),
                            code_interpreter_file_ids=list(dict.fromkeys(files)))
