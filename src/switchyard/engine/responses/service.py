"""Responses as a service: prepare a call, run it in the foreground (whole or
streamed) or queue it for the background runner, and read stored state back."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from switchyard.codecs.openai_responses.call import ImageGenerationConfig
from switchyard.core.errors import ErrorKind, SwitchyardError, invalid
from switchyard.core.request import Tool
from switchyard.core.tool_config import CodeInterpreterConfig
from switchyard.engine.containers.service import ContainerService
from switchyard.engine.containers.service import unavailable as container_unavailable
from switchyard.engine.file_inputs import FileInputs, responses_references
from switchyard.engine.images.service import ImageService
from switchyard.engine.parameter_check import check_parameters
from switchyard.engine.responses.abandoned import closing_events
from switchyard.engine.responses.follow_end import resumable_at_drain
from switchyard.engine.responses.history import gather_history, resolve_references
from switchyard.engine.responses.live import EventSignals
from switchyard.engine.responses.mcp_tools import check_servers
from switchyard.engine.responses.model_request import model_request
from switchyard.engine.responses.response_run import ResponseRun, RunContext, RunOutcome
from switchyard.engine.responses.run_stream import STREAM_END, drain, empty, stop
from switchyard.engine.responses.sink import StoredEventSink
from switchyard.engine.responses.stored import StoredObjects
from switchyard.engine.responses.stored_request import body_to_run, to_store
from switchyard.engine.responses.tool_outputs import check_outputs_answer_calls
from switchyard.engine.responses.vision import refuse_images
from switchyard.gateway.metering import caller_snapshot
from switchyard.gateway.router import ModelRegistry, Route
from switchyard.jobs import JobRunner
from switchyard.retrieval.service import Retrieval
from switchyard.store.conversations import ConversationRepository
from switchyard.store.ids import new_id
from switchyard.store.response_events import ResponseEventLog
from switchyard.store.responses import ResponseRecord, ResponseRepository
from switchyard.store.secret_box import SecretBox
from switchyard.tools.builtin import ToolServices
from switchyard.tools.mcp import McpClient

TERMINAL = ("completed", "incomplete", "failed", "cancelled")
CANCEL_WAIT_SECONDS = 10.0
FLAG_FALLBACK_SECONDS = 5.0  # a running job re-reads its stored cancel flag this often when cancels are pushed


def new_item_id(prefix: str) -> str:
    return new_id(prefix)


@dataclass
class Prepared:
    call: Any
    owner_id: str
    route: Route
    history: list[dict[str, Any]]
    input_items: list[dict[str, Any]]
    response_id: str
    created_at: int
    raw: dict[str, Any]

    def stored_request(self, box: SecretBox, *, background: bool) -> dict[str, Any]:
        """What the runner needs to run it again: the body as sent (its secrets sealed for a
        background run, else dropped), and the input as resolved."""
        return to_store(self.raw, self.input_items, self.response_id, box, keep_secrets=background)


def not_found(response_id: str) -> SwitchyardError:
    return SwitchyardError(ErrorKind.NOT_FOUND, f"Response with id '{response_id}' not found.",
                           param="response_id")


class ResponsesService:
    def __init__(self, models: ModelRegistry, responses: ResponseRepository, events: ResponseEventLog,
                 conversations: ConversationRepository, mcp: McpClient, signals: EventSignals, *,
                 secrets: SecretBox, retrieval: Retrieval | None = None,
                 file_inputs: FileInputs | None = None, images: ImageService | None = None,
                 containers: ContainerService | None = None) -> None:
        self.retrieval = retrieval
        self.containers = containers
        self.secrets = secrets
        self.file_inputs = file_inputs
        self.images = images
        self.models = models
        self.responses = responses
        self.events = events
        self.conversations = conversations
        self.mcp = mcp
        self.signals = signals
        self.runner: JobRunner | None = None  # told when a background response is queued or cancelled
        self.stored = StoredObjects(responses, conversations)

    async def prepare(self, call: Any, owner_id: str, raw: dict[str, Any], *,
                      history: list[dict[str, Any]] | None = None) -> Prepared:
        """``history``, when given, is what ``previous_response_id`` names, already at hand
        (a WebSocket connection's cached response); otherwise it is read from the store."""
        if call.background and not call.store:
            raise invalid("Background responses must be stored: 'store' cannot be false.", "store")
        route = self.models.resolve(call.model)
        await check_servers(call, self.mcp)
        hosted = call.mcp_tools or call.file_search or call.image_generation or call.code_interpreter
        tools = call.function_tools or ([Tool("mcp_or_file_search")] if hosted else [])
        if call.image_generation is not None:
            self._check_image_model(call.image_generation)
        if call.code_interpreter is not None:
            self._check_container(call.code_interpreter, owner_id)
        check_parameters(route, model_request(call, [], tools), quiet=True)
        if self.file_inputs is not None:
            await self.file_inputs.check(responses_references(call.input_items), owner_id)
        if history is None:
            history = await gather_history(call, owner_id, self.responses, self.conversations)
        inputs = await self.resolve_items(call.input_items, history, owner_id)
        check_outputs_answer_calls(history, inputs)
        if not route.provider.capabilities.vision:
            refuse_images(route.name, call, inputs, history)
        return Prepared(call, owner_id, route, history, inputs, new_id("resp_"), int(time.time()), raw)

    async def resolve_items(self, input_items: list[dict[str, Any]], history: list[dict[str, Any]],
                            owner_id: str) -> list[dict[str, Any]]:
        """Input with ``item_reference`` items (and reasoning items sent back by id alone)
        replaced by what they name: the context first, then any stored item of the owner's
        responses or conversations, as OpenAI resolves them. Another owner's item is not found."""

        async def lookup(ids: list[str]) -> dict[str, dict[str, Any]]:
            found = await self.responses.items_by_id(ids, owner_id)
            rest = [i for i in ids if i not in found]
            return {**await self.conversations.items_by_id(rest, owner_id), **found} if rest else found

        return await resolve_references(input_items, history, lookup)

    def _check_image_model(self, config: ImageGenerationConfig) -> None:
        """A 400 naming the tool's ``model`` when no image model can serve it."""
        try:
            if self.images is None:
                raise invalid("No image generation model is configured on this server.", "model",
                              "model_not_configured")
            self.images.check_model(config.model)
        except SwitchyardError as error:
            error.param = f"{config.path}.model"
            error.message = f"The image_generation tool cannot be used: {error.message}"
            raise

    def _check_container(self, config: CodeInterpreterConfig, owner_id: str) -> None:
        """A 400 naming the tool when no sandbox runs here; a 404 for a container that is not
        the caller's."""
        if self.containers is None or self.containers.pool is None:
            error = container_unavailable()
            error.param = config.path
            raise error
        if config.container is not None:
            self.containers.get(owner_id, config.container, f"{config.path}.container")

    def _context(self, p: Prepared, background: bool) -> RunContext:
        return RunContext(p.response_id, p.call, p.route, p.history, p.input_items, p.created_at,
                          ToolServices(self.retrieval, self.mcp, self.images, self.containers), new_item_id,
                          background=background, owner_id=p.owner_id, file_inputs=self.file_inputs)

    async def run_foreground(self, p: Prepared) -> dict[str, Any]:
        async def drop(event: dict[str, Any]) -> None:
            return None

        outcome = await ResponseRun(self._context(p, False), drop).run()
        await self._persist(p, outcome)
        return outcome.body

    async def stream_foreground(self, p: Prepared, *, generate: bool = True) -> AsyncIterator[dict[str, Any]]:
        """Events of a run; raises before the first one if the request is refused. With
        ``generate`` false the response only prepares state: no model call, no output."""
        queue: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue()

        async def put(event: dict[str, Any]) -> None:
            await queue.put(event)

        async def produce() -> None:
            try:
                run = ResponseRun(self._context(p, False), put)
                outcome = await (run.run() if generate else run.warm())
                await self._persist(p, outcome)
            finally:
                await queue.put(None)

        task = asyncio.create_task(produce())
        try:
            first = await queue.get()
        except asyncio.CancelledError:
            await stop(task)
            raise
        if first is None:
            task.result()  # re-raises a refusal that came before any event
            return empty()
        return drain(first, queue, task)

    async def _persist(self, p: Prepared, outcome: RunOutcome) -> None:
        if p.call.store:
            await self.responses.create(
                id=p.response_id, owner_id=p.owner_id, model=p.call.model, status=outcome.status,
                body=outcome.body, request=p.stored_request(self.secrets, background=False), input_items=p.input_items,
                previous_response_id=p.call.previous_response_id, conversation_id=p.call.conversation,
                background=False, created_at=p.created_at, output_items=outcome.output,
                completed_at=outcome.body.get("completed_at"),
            )
        await self._append_conversation(p, outcome)

    async def _append_conversation(self, p: Prepared, outcome: RunOutcome) -> None:
        if p.call.conversation and outcome.status != "failed":
            known = {item.get("id") for item in p.history}
            new = [item for item in p.input_items if item.get("id") not in known]
            await self.conversations.append_items(p.call.conversation, p.owner_id, [*new, *outcome.output])

    async def queue_background(self, p: Prepared) -> dict[str, Any]:
        run = ResponseRun(self._context(p, True), _discard)
        body = run.body("queued")
        await self.responses.create(
            id=p.response_id, owner_id=p.owner_id, model=p.call.model, status="queued", body=body,
            request={**p.stored_request(self.secrets, background=True), "caller": caller_snapshot()},
            input_items=p.input_items, previous_response_id=p.call.previous_response_id,
            conversation_id=p.call.conversation, background=True, created_at=p.created_at,
        )
        if self.runner is not None:
            await self.runner.submit(p.response_id)
        return body

    def stored_body(self, record: ResponseRecord) -> dict[str, Any]:
        """A queued response's request body, its sealed secrets opened."""
        return body_to_run(record.request, record.id, self.secrets)

    async def run_background(self, record: ResponseRecord, call: Any,
                             pushed: asyncio.Event | None = None) -> RunOutcome:
        """Run a claimed background response to its end, storing every event. ``pushed`` is
        set when the job runner hears of a cancel (the stored flag is read as well)."""
        history = await gather_history(call, record.owner_id, self.responses, self.conversations)
        p = Prepared(call, record.owner_id, self.models.resolve(call.model), history,
                     list(call.input_items), record.id, record.created_at, record.request["body"])
        sink = StoredEventSink(record.id, self.events, self.signals)

        # Where cancels are pushed to the running process, the stored flag is a fallback (a lost
        # notice): read as the run was claimed, then every FLAG_FALLBACK_SECONDS. Else it is
        # read as often as it is asked for.
        pushes = pushed is not None and self.runner is not None and self.runner.pushes_cancels
        every = FLAG_FALLBACK_SECONDS if pushes else 0.0
        read_after = time.monotonic() + every if pushes else 0.0

        async def cancelled() -> bool:
            nonlocal read_after
            if (pushed is not None and pushed.is_set()) or record.cancel_requested:
                return True
            if time.monotonic() < read_after:
                return False
            read_after = time.monotonic() + every
            return await self.responses.is_cancel_requested(record.id)

        try:
            outcome = await ResponseRun(self._context(p, True), sink, cancelled).run()
        finally:
            await sink.flush()
        await self.responses.save_output(record.id, status=outcome.status, body=outcome.body,
                                         output_items=outcome.output,
                                         completed_at=outcome.body.get("completed_at"))
        await self._append_conversation(p, outcome)
        self.signals.notify(record.id)
        return outcome

    async def give_up(self, record: ResponseRecord, message: str) -> None:
        """Mark a background response failed (its runner died, or it cannot run), and end
        its event stream with ``response.failed`` so that followers can tell."""
        body = {**record.body, "status": "failed", "error": {"code": "server_error", "message": message}}
        log, _ = await self.events.after(record.id, None)
        ending = closing_events(log, record.body, body)
        # The events first: a follower that sees the status change must find them there.
        await self.events.append(record.id, ending)
        await self.responses.save_output(record.id, status="failed", body=body,
                                         output_items=list(body.get("output") or []), completed_at=None)
        self.signals.notify(record.id)

    async def get(self, response_id: str, owner_id: str) -> ResponseRecord:
        record = await self.responses.get(response_id, owner_id)
        if record is None:
            raise not_found(response_id)
        return record

    async def follow(self, response_id: str, owner_id: str, starting_after: int | None
                     ) -> AsyncIterator[dict[str, Any]]:
        """Stored events after ``starting_after``, then new ones as they come; ended by an
        ``error`` event saying where to resume if this process drains first."""
        record = await self.get(response_id, owner_id)
        if not record.background:
            raise invalid("Only background responses can be streamed after creation.", "stream")
        last = -1 if starting_after is None else starting_after
        events, lowest = await self.events.after(response_id, last)
        if lowest is not None and lowest > last + 1:
            raise invalid(f"Events up to sequence number {lowest - 1} are no longer available; "
                          f"resume with starting_after >= {lowest - 1}.", "starting_after")
        return resumable_at_drain(self._follow(response_id, owner_id, last, events), last)

    async def _follow(self, response_id: str, owner_id: str, last: int,
                      events: list[dict[str, Any]]) -> AsyncIterator[dict[str, Any]]:
        while True:
            for event in events:
                last = event["sequence_number"]
                if event.get("type") in STREAM_END:
                    await self._until_stored(response_id, owner_id)
                    yield event
                    return
                yield event
            record = await self.responses.get(response_id, owner_id)
            if record is None or record.status in TERMINAL:
                events, _ = await self.events.after(response_id, last)
                if not events:
                    end = await self._missing_end(record, last)
                    if end is not None:
                        yield end
                    return
                continue
            await self.signals.wait(response_id)
            events, _ = await self.events.after(response_id, last)

    async def _until_stored(self, response_id: str, owner_id: str) -> None:
        """The runner logs a run's last event before it stores the outcome; a follower holds
        that event until the stored response has its final status."""
        while True:
            record = await self.responses.get(response_id, owner_id)
            if record is None or record.status in TERMINAL:
                return
            await self.signals.wait(response_id)

    async def _missing_end(self, record: ResponseRecord | None, last: int) -> dict[str, Any] | None:
        """The terminal event a finished response's stored stream lacks, if it lacks one."""
        if record is None or f"response.{record.status}" not in STREAM_END:
            return None
        stored_last = await self.events.last_sequence(record.id)
        if stored_last is not None:
            final, _ = await self.events.after(record.id, stored_last - 1)
            if final and final[-1].get("type") in STREAM_END:
                return None
        number = max(last, -1 if stored_last is None else stored_last) + 1
        return {"type": f"response.{record.status}", "sequence_number": number, "response": record.body}

    async def cancel(self, response_id: str, owner_id: str) -> dict[str, Any]:
        """The response as it is once the cancel took effect: ``cancelled`` for a queued or
        running one; a finished one unchanged (as OpenAI: cancelling again is a no-op).
        A run that does not stop within ``CANCEL_WAIT_SECONDS`` is reported as it is."""
        record = await self.get(response_id, owner_id)
        if not record.background:
            raise invalid("Only background responses can be cancelled.", "response_id")
        if record.status in TERMINAL:
            return _as_stored(record)
        await self.responses.request_cancel(response_id, owner_id)
        if self.runner is not None:
            await self.runner.cancel(response_id)
        if record.status == "queued":
            body = {**record.body, "status": "cancelled"}
            if await self.responses.update_status(response_id, "cancelled", body, from_status="queued"):
                self.signals.notify(response_id)
                return body
        deadline = time.monotonic() + CANCEL_WAIT_SECONDS
        current = await self.get(response_id, owner_id)
        while current.status not in TERMINAL and time.monotonic() < deadline:
            await self.signals.wait(response_id, 0.1)
            current = await self.get(response_id, owner_id)
        return _as_stored(current)

    async def delete(self, response_id: str, owner_id: str) -> None:
        if not await self.responses.delete(response_id, owner_id):
            raise not_found(response_id)


def _as_stored(record: ResponseRecord) -> dict[str, Any]:
    return {**record.body, "status": record.status}


async def _discard(event: dict[str, Any]) -> None:
    return None
