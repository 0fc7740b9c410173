"""Canonical events (over one or more model turns) and engine-made items as Responses
stream events: the one place ``sequence_number`` and ``output_index`` are assigned.

Each canonical block becomes one output item: text → ``message`` with one
``output_text`` part, refusal → ``message`` with one ``refusal`` part, reasoning →
``reasoning`` (its text as a ``reasoning_text`` content part, or as one summary part
with ``reasoning_as="summary"``), tool call → ``function_call``. Blocks still open when
a turn ends (``Finish`` or the next ``Start``) are closed, ``incomplete`` unless the
turn finished normally.

Built-in tool items (``ItemStart`` / ``ItemDone``) become their output items with the
events the spec gives each kind; a ``file_search_call`` shows its ``results`` only with
``search_results``, and a search that found something makes every text block that ends
afterwards cite its files. ``ItemProgress`` of a begun ``image_generation_call`` (a
partial image) becomes its ``partial_image`` event. Vendor items are left out.

A call to a custom tool becomes a ``custom_tool_call`` (its input streamed once, as
``custom_tool_call_input.delta``/``.done`` when the call is complete, since the model
writes it as JSON arguments); a call to a namespaced tool a ``function_call`` with
``namespace``. Which tools those are comes from ``tools`` or, when not given, from the
``tools`` of the first lifecycle event's response. Signed reasoning text is packed into
``encrypted_content`` too when the response is not stored (``store: false``: the client
sends reasoning back and may leave ``content`` out) or ``pack_reasoning_text`` says so."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any, Literal

from switchyard.codecs.openai_chat.wire import ERROR_TYPES
from switchyard.codecs.openai_responses.builtin_out import builtin_item, image_settings
from switchyard.codecs.openai_responses.call import NewItemId
from switchyard.codecs.openai_responses.items_out import (
    delta_logprobs,
    function_call_item,
    logprobs_out,
    message_item,
    output_text,
    reasoning_item,
    refusal,
)
from switchyard.codecs.openai_responses.tool_names import ToolKind, custom_input, tool_kinds
from switchyard.core.errors import SwitchyardError
from switchyard.core.events import (
    ArgumentsDelta,
    BlockKind,
    BlockStart,
    BlockStop,
    Event,
    Finish,
    ItemDone,
    ItemProgress,
    ItemStart,
    ReasoningDelta,
    RefusalDelta,
    SignatureDelta,
    Start,
    TextDelta,
)
from switchyard.core.tool_items import (
    CodeFile,
    CodeInterpreterCall,
    FileSearchCall,
    FileSearchResult,
    PartialImage,
    VendorItem,
)

LIFECYCLE = frozenset({
    "response.created", "response.queued", "response.in_progress", "response.completed",
    "response.incomplete", "response.failed",
})
_ITEM_PREFIX = {"mcp_list_tools": "mcpl_", "mcp_call": "mcp_", "mcp_approval_request": "mcpr_",
                "mcp_approval_response": "mcpa_", "file_search_call": "fs_", "code_interpreter_call": "ci_",
                "image_generation_call": "ig_"}


@dataclass(slots=True)
class _Block:
    kind: BlockKind
    output_index: int
    item_id: str
    text: str = ""
    logprobs: list[dict[str, Any]] = field(default_factory=list)
    part_open: bool = False
    call_id: str = ""
    name: str = ""
    signature: str | None = None
    encrypted: str | None = None
    tool: ToolKind | None = None


Event_ = dict[str, Any]


def _placed(citation: dict[str, Any], text: str) -> dict[str, Any]:
    """A citation placed in a finished text: a file citation at its end; a container file
    citation over the file's name where the text says it (else at the end)."""
    if citation["type"] != "container_file_citation":
        return {**citation, "index": len(text)}
    start = text.rfind(citation["filename"])
    end = start + len(citation["filename"]) if start >= 0 else len(text)
    return {**citation, "start_index": start if start >= 0 else len(text), "end_index": end}


class ResponsesStreamEncoder:
    def __init__(
        self,
        *,
        new_item_id: NewItemId,
        starting_sequence: int = 0,
        reasoning_as: Literal["text", "summary"] = "text",
        tools: dict[str, ToolKind] | None = None,
        pack_reasoning_text: bool | None = None,
        search_results: bool = False,
        code_outputs: bool = False,
    ) -> None:
        self._search_results = search_results
        self._code_outputs = code_outputs
        self._new_item_id = new_item_id
        self._tools = tools
        self._pack_text = pack_reasoning_text
        self._sequence = starting_sequence
        self._reasoning_as = reasoning_as
        self._next_index = 0
        self._blocks: dict[int, _Block] = {}
        self._begun: dict[str, int] = {}
        self._citations: list[dict[str, Any]] = []
        self._done: dict[int, dict[str, Any]] = {}

    @property
    def output(self) -> list[dict[str, Any]]:
        """Every finished output item, by ``output_index``."""
        return [self._done[i] for i in sorted(self._done)]

    @property
    def next_sequence(self) -> int:
        return self._sequence

    def _event(self, type_: str, **fields: Any) -> Event_:
        event = {"type": type_, "sequence_number": self._sequence, **fields}
        self._sequence += 1
        return event

    # -- lifecycle and errors -------------------------------------------------------------

    def lifecycle(self, type_: str, response: dict[str, Any]) -> Event_:
        """``response.created`` … ``response.failed`` (the ``response.`` prefix may be left out)."""
        name = type_ if type_.startswith("response.") else f"response.{type_}"
        if name not in LIFECYCLE:
            raise ValueError(f"not a lifecycle event: {type_!r}")
        if self._tools is None and isinstance(response.get("tools"), list):
            self._tools = tool_kinds(response["tools"])
        if self._pack_text is None and "store" in response:
            self._pack_text = response["store"] is False
        return self._event(name, response=response)

    def error(self, err: SwitchyardError) -> Event_:
        """OpenAI's flat shape. Open Responses nests these fields in an ``error`` object, but
        the OpenAI SDKs raise on any stream event with a top-level ``error`` key."""
        return self._event("error", code=err.code or ERROR_TYPES[err.kind], message=err.message, param=err.param)

    # -- model turns ----------------------------------------------------------------------

    def feed(self, event: Event) -> list[Event_]:
        match event:
            case Start():
                out = self.close_open("incomplete")
                self._blocks = {}
                return out
            case BlockStart(index=i, kind=kind):
                out = self._stop(i, "completed") if i in self._blocks else []
                return out + self._start(i, kind, event)
            case TextDelta(index=i, text=text, logprobs=lp) if text or lp:
                out, block = self._ensure(i, "text")
                block.text += text
                delta_lp = delta_logprobs(lp) if lp else []
                if lp:
                    block.logprobs += logprobs_out(lp)
                return [*out, self._event("response.output_text.delta", **self._where(block), content_index=0,
                                          delta=text, logprobs=delta_lp)]
            case RefusalDelta(index=i, text=text) if text:
                out, block = self._ensure(i, "refusal")
                block.text += text
                return [*out, self._event("response.refusal.delta", **self._where(block), content_index=0,
                                          delta=text)]
            case ReasoningDelta(index=i, text=text) if text:
                out, block = self._ensure(i, "reasoning")
                out += self._open_reasoning_part(block)
                block.text += text
                if self._reasoning_as == "summary":
                    return [*out, self._event("response.reasoning_summary_text.delta", **self._where(block),
                                              summary_index=0, delta=text)]
                return [*out, self._event("response.reasoning_text.delta", **self._where(block), content_index=0,
                                          delta=text)]
            case SignatureDelta(index=i, signature=sig):
                out, block = self._ensure(i, "reasoning")
                block.signature = (block.signature or "") + sig
                return out
            case ArgumentsDelta(index=i, arguments=args) if args:
                out, block = self._ensure(i, "tool_call")
                block.text += args
                if block.tool is not None and block.tool.kind == "custom":
                    return out
                return [*out, self._event("response.function_call_arguments.delta", **self._where(block),
                                          delta=args)]
            case BlockStop(index=i):
                return self._stop(i, "completed")
            case Finish(reason=reason):
                return self.close_open("incomplete" if reason in ("length", "content_filter") else "completed")
            case ItemStart() | ItemProgress() | ItemDone():
                return self._builtin(event)
        return []

    def close_open(self, status: str = "incomplete") -> list[Event_]:
        """Close every block still open (cancellation, failure, end of turn)."""
        out: list[Event_] = []
        for index in sorted(self._blocks, key=lambda i: self._blocks[i].output_index):
            out += self._stop(index, status)
        return out

    def _where(self, block: _Block) -> dict[str, Any]:
        return {"item_id": block.item_id, "output_index": block.output_index}

    def _ensure(self, index: int, kind: BlockKind) -> tuple[list[Event_], _Block]:
        """The open block ``index``; a delta for a block never started opens one."""
        block = self._blocks.get(index)
        if block is not None and block.kind == kind:
            return [], block
        out = self._stop(index, "completed") if block is not None else []
        out += self._start(index, kind, BlockStart(index, kind))
        return out, self._blocks[index]

    def _start(self, index: int, kind: BlockKind, event: BlockStart) -> list[Event_]:
        prefix = {"text": "msg_", "refusal": "msg_", "reasoning": "rs_", "tool_call": "fc_"}[kind]
        block = _Block(kind, self._next_index, self._new_item_id(prefix))
        self._next_index += 1
        self._blocks[index] = block
        if kind == "tool_call":
            block.call_id = event.call_id or self._new_item_id("call_")
            block.name = event.name or ""
            block.tool = (self._tools or {}).get(block.name)
            if block.tool is not None and block.tool.kind == "custom":
                block.item_id = "ctc_" + block.item_id.removeprefix("fc_")
            item = function_call_item(block.item_id, block.call_id, block.name, "", "in_progress", block.tool)
            return [self._event("response.output_item.added", output_index=block.output_index, item=item)]
        if kind == "reasoning":
            block.encrypted = event.encrypted
            item = reasoning_item(block.item_id)
            return [self._event("response.output_item.added", output_index=block.output_index, item=item)]
        part = output_text("") if kind == "text" else refusal("")
        return [
            self._event("response.output_item.added", output_index=block.output_index,
                        item=message_item(block.item_id, [], "in_progress")),
            self._event("response.content_part.added", **self._where(block), content_index=0, part=part),
        ]

    def _open_reasoning_part(self, block: _Block) -> list[Event_]:
        if block.part_open:
            return []
        block.part_open = True
        if self._reasoning_as == "summary":
            return [self._event("response.reasoning_summary_part.added", **self._where(block), summary_index=0,
                                part={"type": "summary_text", "text": ""})]
        return [self._event("response.content_part.added", **self._where(block), content_index=0,
                            part={"type": "reasoning_text", "text": ""})]

    def _stop(self, index: int, status: str) -> list[Event_]:
        block = self._blocks.pop(index, None)
        if block is None:
            return []
        where = self._where(block)
        out: list[Event_] = []
        if block.kind == "text":
            part = output_text(block.text, block.logprobs)
            for n, citation in enumerate(self._citations):
                annotation = _placed(citation, block.text)
                part["annotations"].append(annotation)
                out.append(self._event("response.output_text.annotation.added", **where, content_index=0,
                                       annotation_index=n, annotation=annotation))
            out += [
                self._event("response.output_text.done", **where, content_index=0, text=block.text,
                            logprobs=block.logprobs),
                self._event("response.content_part.done", **where, content_index=0, part=part),
            ]
            item = message_item(block.item_id, [part], status)
        elif block.kind == "refusal":
            part = refusal(block.text)
            out += [
                self._event("response.refusal.done", **where, content_index=0, refusal=block.text),
                self._event("response.content_part.done", **where, content_index=0, part=part),
            ]
            item = message_item(block.item_id, [part], status)
        elif block.kind == "tool_call" and block.tool is not None and block.tool.kind == "custom":
            text = custom_input(block.text)
            if text:
                out.append(self._event("response.custom_tool_call_input.delta", **where, delta=text))
            out.append(self._event("response.custom_tool_call_input.done", **where, input=text))
            item = function_call_item(block.item_id, block.call_id, block.name, block.text, status, block.tool)
        elif block.kind == "tool_call":
            name = block.tool.name if block.tool is not None else block.name
            out.append(self._event("response.function_call_arguments.done", **where, name=name,
                                   arguments=block.text))
            item = function_call_item(block.item_id, block.call_id, block.name, block.text, status, block.tool)
        else:
            out += self._close_reasoning(block)
            summary = [block.text] if block.text and self._reasoning_as == "summary" else []
            text = block.text if self._reasoning_as == "text" else ""
            item = reasoning_item(block.item_id, text=text, summary=summary, signature=block.signature,
                                  encrypted=block.encrypted, pack_text=bool(self._pack_text),
                                  signed_text=block.text)
        out.append(self._event("response.output_item.done", output_index=block.output_index, item=item))
        self._done[block.output_index] = item
        return out

    def _close_reasoning(self, block: _Block) -> list[Event_]:
        if not block.part_open:
            return []
        where = self._where(block)
        if self._reasoning_as == "summary":
            return [
                self._event("response.reasoning_summary_text.done", **where, summary_index=0, text=block.text),
                self._event("response.reasoning_summary_part.done", **where, summary_index=0,
                            part={"type": "summary_text", "text": block.text}),
            ]
        return [
            self._event("response.reasoning_text.done", **where, content_index=0, text=block.text),
            self._event("response.content_part.done", **where, content_index=0,
                        part={"type": "reasoning_text", "text": block.text}),
        ]

    # -- built-in tool items -------------------------------------------------------------

    def _builtin(self, event: ItemStart | ItemProgress | ItemDone) -> list[Event_]:
        if isinstance(event, ItemProgress):
            return [self._partial_image(event.item_id, event.partial)] if event.item_id in self._begun else []
        item = event.item
        if isinstance(item, VendorItem):
            return []  # another vendor's content: nothing a Responses client can read
        wire = builtin_item(item, search_results=self._search_results, code_outputs=self._code_outputs)
        if not wire["id"]:
            wire["id"] = item.id = self._new_item_id(_ITEM_PREFIX.get(wire["type"], "item_"))
        if isinstance(event, ItemStart):
            return self._begin_item(wire)
        out = [] if wire["id"] in self._begun else self._begin_item(wire)
        out += self._end_item(wire)
        if isinstance(item, FileSearchCall) and item.results:
            self._cite(item.results)
        if isinstance(item, CodeInterpreterCall) and item.files:
            self._cite_container_files(item.files)
        return out

    def _cite_container_files(self, files: list[CodeFile]) -> None:
        """``container_file_citation`` annotations for the text blocks that end from now on:
        the files the code wrote (spanning the file's name where the text says it)."""
        known = {(c.get("container_id"), c["file_id"]) for c in self._citations}
        self._citations += [{"type": "container_file_citation", "container_id": f.container_id,
                             "file_id": f.file_id, "filename": f.filename}
                            for f in files if (f.container_id, f.file_id) not in known]

    def _cite(self, results: list[FileSearchResult]) -> None:
        """``file_citation`` annotations (without ``index``) for every text block that ends
        from now on: the files the answer was drawn from."""
        seen: dict[str, dict[str, Any]] = {}
        for r in results:
            seen.setdefault(r.file_id, {"type": "file_citation", "file_id": r.file_id, "filename": r.filename})
        self._citations = list(seen.values())

    def _begin_item(self, item: dict[str, Any]) -> list[Event_]:
        """``output_item.added`` and the item's opening events."""
        kind = item["type"]
        index = self._next_index
        self._next_index += 1
        self._begun[item["id"]] = index
        where = {"item_id": item["id"], "output_index": index}
        added = copy.deepcopy(item)
        out: list[Event_] = []
        if kind == "file_search_call":
            added.update(status="in_progress", results=None)
            out.append(self._event("response.output_item.added", output_index=index, item=added))
            out.append(self._event("response.file_search_call.in_progress", **where))
            out.append(self._event("response.file_search_call.searching", **where))
        elif kind == "image_generation_call":
            added.update(status="in_progress", result=None)
            out.append(self._event("response.output_item.added", output_index=index, item=added))
            out.append(self._event("response.image_generation_call.in_progress", **where))
            out.append(self._event("response.image_generation_call.generating", **where))
        elif kind == "code_interpreter_call":
            code = item.get("code") or ""
            added.update(status="in_progress", code="", outputs=None)
            out.append(self._event("response.output_item.added", output_index=index, item=added))
            out.append(self._event("response.code_interpreter_call.in_progress", **where))
            if code:
                out.append(self._event("response.code_interpreter_call_code.delta", **where, delta=code))
            out.append(self._event("response.code_interpreter_call_code.done", **where, code=code))
            out.append(self._event("response.code_interpreter_call.interpreting", **where))
        elif kind == "mcp_list_tools":
            added["tools"] = []
            added.pop("error", None)
            out.append(self._event("response.output_item.added", output_index=index, item=added))
            out.append(self._event("response.mcp_list_tools.in_progress", **where))
        elif kind == "mcp_call":
            arguments = item.get("arguments") or ""
            added.update(arguments="", status="in_progress", output=None, error=None)
            out.append(self._event("response.output_item.added", output_index=index, item=added))
            if arguments:
                out.append(self._event("response.mcp_call_arguments.delta", **where, delta=arguments))
            out.append(self._event("response.mcp_call_arguments.done", **where, arguments=arguments))
            out.append(self._event("response.mcp_call.in_progress", **where))
        else:
            out.append(self._event("response.output_item.added", output_index=index, item=added))
        return out

    def _partial_image(self, item_id: str, partial: PartialImage) -> Event_:
        """A partial image of a begun ``image_generation_call``, with the settings known so far."""
        return self._event("response.image_generation_call.partial_image", item_id=item_id,
                           output_index=self._begun[item_id], partial_image_b64=partial.data,
                           partial_image_index=partial.index, **image_settings(partial.settings))

    def _end_item(self, done: dict[str, Any]) -> list[Event_]:
        """The item's closing events and ``output_item.done`` with the finished item."""
        index = self._begun.pop(done["id"])
        where = {"item_id": done["id"], "output_index": index}
        kind = done["type"]
        out: list[Event_] = []
        if kind == "file_search_call":
            out.append(self._event("response.file_search_call.completed", **where))
        elif kind == "code_interpreter_call" and done.get("status") == "completed":
            out.append(self._event("response.code_interpreter_call.completed", **where))
        elif kind == "image_generation_call" and done.get("status") == "completed":
            out.append(self._event("response.image_generation_call.completed", **where))
        elif kind == "mcp_list_tools":
            failed = bool(done.get("error"))
            out.append(self._event(f"response.mcp_list_tools.{'failed' if failed else 'completed'}", **where))
        elif kind == "mcp_call":
            failed = done.get("error") is not None
            done["status"] = "failed" if failed else "completed"
            out.append(self._event(f"response.mcp_call.{'failed' if failed else 'completed'}", **where))
        out.append(self._event("response.output_item.done", output_index=index, item=done))
        self._done[index] = done
        return out
