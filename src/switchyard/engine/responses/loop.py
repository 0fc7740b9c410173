"""The agent loop of one response: call the model, run MCP tools, loop; stop at a
client function call, an approval request, the output limit, or the loop bound.
Every step is emitted as a Responses stream event."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from switchyard.codecs.openai_responses import ResponsesStreamEncoder, build_response
from switchyard.core.errors import ErrorKind, SwitchyardError
from switchyard.core.events import BlockStart, Failure
from switchyard.core.items import FunctionCall, FunctionCallOutput, Item, TextPart
from switchyard.core.request import Request, Tool
from switchyard.core.result import Choice, Folder
from switchyard.core.usage import Usage
from switchyard.engine.file_inputs import FileInputs
from switchyard.engine.generation import generate
from switchyard.engine.images.service import ImageService
from switchyard.engine.responses import file_search, image_tool
from switchyard.engine.responses.mcp_tools import ExposedTool, allowed, expose, listed_tools, needs_approval
from switchyard.engine.responses.model_request import context_items, model_request
from switchyard.engine.responses.truncation import fit
from switchyard.gateway.router import Route
from switchyard.retrieval.service import Retrieval
from switchyard.tools.mcp import McpClient, McpError

MAX_TURNS = 16
MAX_SEARCH_ROUNDS = 3
CANCEL_POLL_SECONDS = 0.5

Emit = Callable[[dict[str, Any]], Awaitable[None]]
Cancelled = Callable[[], Awaitable[bool]]


@dataclass
class RunContext:
    response_id: str
    call: Any  # ResponsesCall
    route: Route
    history: list[dict[str, Any]]
    input_items: list[dict[str, Any]]
    created_at: int
    mcp: McpClient
    new_item_id: Callable[[str], str]
    background: bool = False
    owner_id: str = ""
    retrieval: Retrieval | None = None
    file_inputs: FileInputs | None = None
    images: ImageService | None = None


@dataclass
class RunOutcome:
    status: str
    body: dict[str, Any]
    output: list[dict[str, Any]] = field(default_factory=list)


class _Cancelled(Exception):
    pass


class ResponseRun:
    def __init__(self, ctx: RunContext, emit: Emit, cancelled: Cancelled | None = None) -> None:
        self.ctx = ctx
        self._emit = emit
        self._cancelled = cancelled
        summary = ctx.call.reasoning is not None and ctx.call.reasoning.summary is not None
        self.encoder = ResponsesStreamEncoder(new_item_id=ctx.new_item_id,
                                              reasoning_as="summary" if summary else "text")
        self.usage = Usage()
        self.started = False
        self.tool_calls = 0
        self.searches = 0

    def body(self, status: str, **extra: Any) -> dict[str, Any]:
        done = status in ("completed", "incomplete", "failed", "cancelled")
        return build_response(
            self.ctx.call, id=self.ctx.response_id, created_at=self.ctx.created_at, status=status,
            output=list(self.encoder.output), usage=self.usage if done else None,
            error=extra.get("error"), incomplete_details=extra.get("incomplete_details"),
            completed_at=int(time.time()) if status == "completed" else None,
        )

    async def emit(self, events: list[dict[str, Any]]) -> None:
        await self._start()
        for event in events:
            await self._emit(event)

    async def _start(self) -> None:
        if self.started:
            return
        self.started = True
        first = "queued" if self.ctx.background else "in_progress"
        await self._emit(self.encoder.lifecycle("response.created", self.body(first)))
        if self.ctx.background:
            await self._emit(self.encoder.lifecycle("response.queued", self.body("queued")))
        await self._emit(self.encoder.lifecycle("response.in_progress", self.body("in_progress")))

    async def warm(self) -> RunOutcome:
        """A response that only prepares state for a continuation: no model call, no output."""
        await self._start()
        return await self._finish("completed")

    async def _run_watched(self) -> RunOutcome:
        """``_run``, interrupted as soon as a cancel is requested, even mid-wait."""
        if self._cancelled is None:
            return await self._run()
        work = asyncio.ensure_future(self._run())
        watcher = asyncio.ensure_future(self._watch())
        try:
            done, _ = await asyncio.wait({work, watcher}, return_when=asyncio.FIRST_COMPLETED)
            if work in done:
                return work.result()
            work.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await work
            raise _Cancelled
        finally:
            watcher.cancel()
            work.cancel()

    async def _watch(self) -> None:
        assert self._cancelled is not None
        while not await self._cancelled():
            await asyncio.sleep(CANCEL_POLL_SECONDS)

    async def run(self) -> RunOutcome:
        try:
            return await self._run_watched()
        except _Cancelled:
            if self.started:
                await self.emit(self.encoder.close_open("incomplete"))
            return RunOutcome("cancelled", self.body("cancelled"), list(self.encoder.output))
        except SwitchyardError as error:
            if not self.started and error.status < 500 and not self.ctx.background:
                raise
            await self.emit(self.encoder.close_open("incomplete"))  # items cut off mid-way end here
            failure = {"code": _error_code(error), "message": error.message}
            body = self.body("failed", error=failure)
            await self.emit([self.encoder.lifecycle("response.failed", body)])
            return RunOutcome("failed", body, list(self.encoder.output))

    async def _run(self) -> RunOutcome:
        call = self.ctx.call
        seen = [*self.ctx.history, *self.ctx.input_items]
        exposed, mcp_tools = await self._mcp_tools(seen)
        carried = await self._answer_approvals(seen, exposed)
        items = context_items(call, self.ctx.history, self.ctx.input_items) + carried
        if self.ctx.file_inputs is not None:
            await self.ctx.file_inputs.resolve(items, self.ctx.owner_id)
        tools = [*call.function_tools, *mcp_tools]
        if call.file_search is not None:
            tools.append(file_search.TOOL)
        if call.image_generation is not None:
            tools.append(image_tool.TOOL)
        for turn in range(MAX_TURNS):
            budget_left = call.max_tool_calls is None or self.tool_calls < call.max_tool_calls
            request = model_request(call, items, self._offered(tools), tools_allowed=budget_left,
                                    stream=bool(call.stream or self.ctx.background), forced_done=turn > 0)
            if call.truncation == "auto":
                request = await fit(self.ctx.route, request)
            choice = await self._turn(request, exposed)
            items.extend(choice.items)
            if choice.finish_reason == "length":
                return await self._finish("incomplete", incomplete_details={"reason": "max_output_tokens"})
            calls = choice.tool_calls()
            searches = [c for c in calls if self._is_search(c.name)]
            images = [c for c in calls if self._is_image(c.name)]
            mcp_calls = [c for c in calls if c.name in exposed]
            if not calls or len(searches) + len(images) + len(mcp_calls) < len(calls):
                return await self._finish("completed")
            for search in searches:
                items.extend(await self._search(search))
            for image in images:
                items.append(await self._image(image))
            waiting = False
            for mcp_call in mcp_calls:
                target = exposed[mcp_call.name]
                if needs_approval(target.config, target.tool_name):
                    await self._request_approval(mcp_call, target)
                    waiting = True
                    continue
                items.append(await self._call_mcp(mcp_call, target))
            if waiting:
                return await self._finish("completed")
        return await self._finish("completed")  # the loop bound: like OpenAI, stop calling tools

    async def _turn(self, request: Request, exposed: dict[str, ExposedTool]) -> Any:
        folder = Folder()
        hidden: set[int] = set()
        async for event in generate(self.ctx.route, request):
            if isinstance(event, Failure):
                raise event.error
            folder.add(event)
            if isinstance(event, BlockStart) and event.kind == "tool_call" and (
                    event.name in exposed or self._is_search(event.name) or self._is_image(event.name)):
                hidden.add(event.index)
            index = getattr(event, "index", None)
            if index is not None and index in hidden:
                continue
            await self._start()  # before the encoder numbers anything
            await self.emit(self.encoder.feed(event))
        self.usage = self.usage.add(folder.result.usage)
        return folder.result.choices[0] if folder.result.choices else Choice(index=0)

    def _offered(self, tools: list[Tool]) -> list[Tool]:
        """The tools for the next turn: file_search goes once it ran as the forced tool, or
        after a few rounds (small models otherwise search forever instead of answering)."""
        choice = self.ctx.call.tool_choice
        forced = choice is not None and choice.mode == "tool" and choice.name == file_search.NAME
        if self.searches >= (1 if forced else MAX_SEARCH_ROUNDS):
            return [t for t in tools if t is not file_search.TOOL]
        return tools

    def _is_search(self, name: str | None) -> bool:
        return self.ctx.call.file_search is not None and name == file_search.NAME

    def _is_image(self, name: str | None) -> bool:
        return self.ctx.call.image_generation is not None and name == image_tool.NAME

    async def _image(self, call: FunctionCall) -> FunctionCallOutput:
        """Run one image_generation call: its ``image_generation_call`` item out (the image
        in ``result``), a short note to the model. A failed image fails the item, not the response."""
        await self._start()
        self.tool_calls += 1
        config = self.ctx.call.image_generation
        item: dict[str, Any] = {"id": self.ctx.new_item_id("ig_"), "type": "image_generation_call",
                                "status": "in_progress", "result": None}
        await self.emit(self.encoder.begin_item(item))
        error: str | None = None
        try:
            if self.ctx.images is None:
                raise SwitchyardError(ErrorKind.INVALID_REQUEST, "no image model is configured")
            prompt = image_tool.prompt_of(call)
            if config.partial_images and (self.ctx.call.stream or self.ctx.background):
                image = await self._streamed_image(item["id"], config, prompt)
            else:
                image = await self.ctx.images.generate_inline(config.model, prompt, config.options,
                                                              self.ctx.owner_id)
            item.update(status="completed", result=image.get("b64_json"),
                        revised_prompt=image.get("revised_prompt") or prompt)
            item.update({k: image[k] for k in image_tool.SETTINGS if image.get(k) is not None})
        except SwitchyardError as exc:
            error = exc.message
            item.update(status="failed", error={"type": exc.kind.value, "code": exc.code, "message": exc.message,
                                                "param": exc.param})
        await self.emit(self.encoder.end_item(item))
        return image_tool.model_output(call, error)

    async def _streamed_image(self, item_id: str, config: Any, prompt: str) -> dict[str, Any]:
        """The image, its partial images emitted as they come; the completed event's fields."""
        assert self.ctx.images is not None
        completed: dict[str, Any] | None = None
        async for event in self.ctx.images.stream_inline(config.model, prompt, config.options, config.partial_images):
            settings = {k: event[k] for k in image_tool.SETTINGS if isinstance(event.get(k), str)}
            if event.get("type") == "image_generation.partial_image" and isinstance(event.get("b64_json"), str):
                index = event.get("partial_image_index")
                await self.emit(self.encoder.image_partial(item_id, event["b64_json"],
                                                           index if isinstance(index, int) else 0, settings))
            elif event.get("type") == "image_generation.completed":
                completed = {**settings, "b64_json": event.get("b64_json")}
            elif event.get("type") == "error":
                raise SwitchyardError(ErrorKind.UPSTREAM, str((event.get("error") or {}).get("message") or event))
        if completed is None:
            raise SwitchyardError(ErrorKind.UPSTREAM, "the image stream ended without its completed image")
        return completed

    async def _search(self, call: FunctionCall) -> list[Item]:
        """Run one file_search call: its ``file_search_call`` item out, its passages to the model."""
        await self._start()
        self.searches += 1
        config = self.ctx.call.file_search
        queries = file_search.queries_of(call)
        item: dict[str, Any] = {"id": self.ctx.new_item_id("fs_"), "type": "file_search_call",
                                "status": "in_progress", "queries": queries, "results": None}
        await self.emit(self.encoder.begin_item(item))
        hits = []
        if queries and self.ctx.retrieval is not None:
            hits = await self.ctx.retrieval.search.search(
                config.vector_store_ids, self.ctx.owner_id, queries, max_num_results=config.max_num_results,
                filters=config.filters, ranking_options=config.ranking_options)
        item["status"] = "completed"
        if file_search.RESULTS_INCLUDE in self.ctx.call.include:
            item["results"] = file_search.result_items(hits)
        await self.emit(self.encoder.end_item(item))
        if hits:
            self.encoder.cite(file_search.citations(hits))
        return [file_search.model_output(call, hits)]

    async def _mcp_tools(self, seen: list[dict[str, Any]]) -> tuple[dict[str, ExposedTool], list[Tool]]:
        listings: dict[str, list[dict[str, Any]]] = {}
        unknown = []
        for config in self.ctx.call.mcp_tools:
            known = listed_tools(seen, config.server_label)
            if known is None:
                unknown.append(config)
            else:
                listings[config.server_label] = known
        listings.update(await self._list(unknown))
        taken = {t.name for t in self.ctx.call.function_tools}
        tools, exposed = expose(self.ctx.call.mcp_tools, listings, taken)
        return exposed, tools

    async def _list(self, configs: list[Any]) -> dict[str, list[dict[str, Any]]]:
        """The servers' tools, listed concurrently; their items open and close in request order."""
        if not configs:
            return {}
        await self._start()
        items: list[dict[str, Any]] = []
        for config in configs:
            item = {"id": self.ctx.new_item_id("mcpl_"), "type": "mcp_list_tools",
                    "server_label": config.server_label, "tools": [], "error": None}
            items.append(item)
            await self.emit(self.encoder.begin_item(item))
        found = await asyncio.gather(*(self.ctx.mcp.list_tools(c.server_url, c.headers) for c in configs),
                                     return_exceptions=True)
        for config, item, tools in zip(configs, items, found, strict=True):
            if isinstance(tools, McpError):
                item["error"] = str(tools)
            elif isinstance(tools, BaseException):
                raise tools
            else:
                item["tools"] = [{"name": t.name, "description": t.description, "input_schema": t.input_schema,
                                  "annotations": t.annotations} for t in tools if allowed(config, t.name)]
            await self.emit(self.encoder.end_item(item))
        return {item["server_label"]: item["tools"] for item in items}

    async def _call_mcp(self, call: FunctionCall, target: ExposedTool) -> FunctionCallOutput:
        await self._start()
        import orjson

        self.tool_calls += 1
        item: dict[str, Any] = {"id": self.ctx.new_item_id("mcp_"), "type": "mcp_call",
                                "server_label": target.server_label, "name": target.tool_name,
                                "arguments": call.arguments, "output": None, "error": None,
                                "status": "in_progress"}
        await self.emit(self.encoder.begin_item(item))
        try:
            arguments = orjson.loads(call.arguments or "{}")
            result = await self.ctx.mcp.call_tool(target.config.server_url, target.config.headers,
                                                  target.tool_name, arguments)
            if result.is_error:
                item["error"] = result.output
            else:
                item["output"] = result.output
        except (McpError, orjson.JSONDecodeError) as exc:
            item["error"] = str(exc)
        item["status"] = "failed" if item["error"] else "completed"
        await self.emit(self.encoder.end_item(item))
        text = item["output"] if item["error"] is None else f"Error: {item['error']}"
        return FunctionCallOutput(call.call_id, [TextPart(text)], is_error=item["error"] is not None)

    async def _request_approval(self, call: FunctionCall, target: ExposedTool) -> None:
        await self._start()
        item = {"id": self.ctx.new_item_id("mcpr_"), "type": "mcp_approval_request",
                "server_label": target.server_label, "name": target.tool_name, "arguments": call.arguments}
        await self.emit(self.encoder.begin_item(item))
        await self.emit(self.encoder.end_item(item))

    async def _answer_approvals(self, seen: list[dict[str, Any]],
                                exposed: dict[str, ExposedTool]) -> list[Item]:
        """Carry out (or decline) the MCP calls whose approval arrives in this input."""
        requests = {i["id"]: i for i in seen if i.get("type") == "mcp_approval_request"}
        carried: list[Item] = []
        for answer in self.ctx.input_items:
            if answer.get("type") != "mcp_approval_response":
                continue
            asked = requests.get(answer.get("approval_request_id"))
            if asked is None:
                raise SwitchyardError(ErrorKind.INVALID_REQUEST,
                                      f"No mcp_approval_request with id '{answer.get('approval_request_id')}'.",
                                      param="input")
            target = next((t for t in exposed.values() if t.server_label == asked["server_label"]
                           and t.tool_name == asked["name"]), None)
            call = FunctionCall(call_id=asked["id"], name=target.name if target else asked["name"],
                                arguments=asked.get("arguments") or "{}")
            carried.append(call)
            if answer.get("approve") and target is not None:
                carried.append(await self._call_mcp(call, target))
            else:
                reason = answer.get("reason") or "The user declined this tool call."
                carried.append(FunctionCallOutput(call.call_id, [TextPart(reason)], is_error=True))
        return carried

    async def _finish(self, status: str, **extra: Any) -> RunOutcome:
        body = self.body(status, **extra)
        await self.emit([self.encoder.lifecycle(f"response.{status}", body)])
        return RunOutcome(status, body, list(self.encoder.output))


def _error_code(error: SwitchyardError) -> str:
    if error.kind in (ErrorKind.RATE_LIMIT, ErrorKind.QUOTA):  # the spec has no insufficient_quota code here
        return "rate_limit_exceeded"
    if error.kind is ErrorKind.INVALID_REQUEST:
        return "invalid_prompt"
    return "server_error"
