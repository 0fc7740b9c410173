"""An agent run's events (``core.run_events``) as an Assistants run: the ``thread.run``,
its steps and messages, and the ``AssistantStreamEvent`` sequence that shows them.

One Assistants run may take several agent runs ("segments"): one to the first function
call (``requires_action``), one more after each ``submit_tool_outputs``. Each segment has
its own encoder over the stored run; ``resumed`` completes the step that waited.

- ``created`` → ``thread.created`` (create-and-run), ``thread.run.created``, ``.queued``.
- ``RunStarted`` → ``thread.run.in_progress``.
- A text (or refusal) block → a ``message_creation`` step and its message:
  ``thread.run.step.created``, ``.step.in_progress``, ``thread.message.created``,
  ``.message.in_progress``, a ``thread.message.delta`` per delta; the message completes
  (``thread.message.completed``, or ``.incomplete`` at the output limit) at the turn's
  ``Finish`` or when a tool step opens, and its step right after, with the turn's usage.
  A search earlier in the run makes the answer cite its files: a ``【n†file】`` marker per
  file at the end of the text, each with its ``file_citation`` annotation.
- A function call block, or a built-in call (``ItemStart``/``ItemDone``: file_search,
  code_interpreter) → one ``tool_calls`` step per turn, its calls shown by
  ``thread.run.step.delta``s; the step completes when the next turn starts or the run
  ends, unless it holds function calls the client has to answer: then the run ends
  ``thread.run.requires_action`` with the step still in progress.
- ``RunFinished`` → ``thread.run.completed`` / ``.incomplete`` / ``.failed`` /
  ``.cancelled``; what is still open is closed (steps ``failed`` / ``cancelled``,
  messages ``incomplete``).

Usage: each step takes the usage of the model turns since the previous step closed;
the run's is the sum over its segments (``prior`` plus this one's), shown once it ends.
No clock is read: ``now`` is given."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from switchyard.codecs.openai_assistants.run_annotations import cite_files, link_files
from switchyard.codecs.openai_assistants.run_objects import (
    REQUIRES_ACTION_SECONDS,
    code_interpreter_call,
    file_search_call,
    function_call,
    last_error,
    message_details,
    message_object,
    pending_function_calls,
    public_step,
    required_action,
    step_object,
    text_content,
    tool_calls_details,
    usage_in,
    usage_out,
)
from switchyard.core.errors import SwitchyardError
from switchyard.core.events import (
    ArgumentsDelta,
    BlockStart,
    Finish,
    ItemDone,
    ItemStart,
    RefusalDelta,
    Start,
    TextDelta,
    UsageReport,
)
from switchyard.core.run_events import RunEvent, RunFinished, RunStarted
from switchyard.core.tool_items import CodeInterpreterCall, FileSearchCall
from switchyard.core.usage import Usage

StreamEvent = tuple[str, dict[str, Any]]
NewId = Callable[[str], str]
Clock = Callable[[], int]

_MESSAGE_END_REASON = {"failed": "run_failed", "cancelled": "run_cancelled", "incomplete": "max_tokens"}


class AssistantsRunEncoder:
    def __init__(self, run: dict[str, Any], *, new_id: NewId, now: Clock, prior: Usage | None = None,
                 search_content: bool = False, waiting_step: dict[str, Any] | None = None,
                 action_seconds: int = REQUIRES_ACTION_SECONDS) -> None:
        self._action_seconds = action_seconds
        self.run = copy.deepcopy(run)
        self._new_id = new_id
        self._now = now
        self.prior = prior or Usage()
        self.usage = Usage()  # this segment's, from ``RunFinished``
        self._search_content = search_content
        self.steps: dict[str, dict[str, Any]] = {}
        self.messages: dict[str, dict[str, Any]] = {}
        self.waiting = copy.deepcopy(waiting_step) if waiting_step is not None else None
        self._message: str | None = None
        self._message_step: str | None = None
        self._done_step: str | None = None  # its message ended with the turn; the step waits for the usage
        self._message_kind = "text"
        self._text_index = 0  # the text's place in the open message (after the images it shows)
        self._images: list[str] = []  # File ids of images the run's code drew, not yet in a message
        self._written: dict[str, str] = {}  # File id → filename of files the code wrote, not yet linked
        self._tool_step: str | None = None
        self._tool_index: dict[int, int] = {}  # block index → position in the step's tool_calls
        self._item_index: dict[str, int] = {}  # built-in item id → position
        self._turn_usage = Usage()
        self._unattributed = Usage()
        self._citations: dict[str, str] = {}  # file id → filename, in order found

    # -- moments outside the agent run ------------------------------------------------------

    @property
    def total_usage(self) -> Usage:
        return self.prior.add(self.usage)

    def created(self, thread: dict[str, Any] | None = None) -> list[StreamEvent]:
        """The run as just created (queued); ``thread`` when the same call created it."""
        out: list[StreamEvent] = [] if thread is None else [("thread.created", thread)]
        return [*out, ("thread.run.created", self._run()), ("thread.run.queued", self._run())]

    def resumed(self, outputs: dict[str, str]) -> list[StreamEvent]:
        """The client answered the waiting step's function calls: it completes, and the run
        is queued again."""
        out: list[StreamEvent] = []
        step = self.waiting
        if step is not None:
            for call in pending_function_calls(step):
                call["function"]["output"] = outputs.get(call["id"], "")
            step.update(status="completed", completed_at=self._now())
            self.steps[step["id"]] = step
            out.append(("thread.run.step.completed", self._shown(step)))
        self.run.update(status="queued", required_action=None, expires_at=None)
        return [*out, ("thread.run.queued", self._run())]

    def cancelling(self) -> list[StreamEvent]:
        self.run["status"] = "cancelling"
        return [("thread.run.cancelling", self._run())]

    def expired(self) -> list[StreamEvent]:
        """The client did not answer in time: the waiting step and the run expire."""
        now = self._now()
        out: list[StreamEvent] = []
        if self.waiting is not None:
            self.waiting.update(status="expired", expired_at=now)
            self.steps[self.waiting["id"]] = self.waiting
            out.append(("thread.run.step.expired", copy.deepcopy(self.waiting)))
        self.run.update(status="expired", required_action=None, usage=usage_out(self.total_usage))
        return [*out, ("thread.run.expired", self._run())]

    @staticmethod
    def error(error: SwitchyardError) -> StreamEvent:
        """The stream broke (not a failed run: that is ``thread.run.failed``)."""
        return ("error", {"code": error.code, "message": error.message, "param": error.param,
                          "type": error.kind.value})

    # -- the agent run's events -------------------------------------------------------------

    def feed(self, event: RunEvent) -> list[StreamEvent]:
        match event:
            case RunStarted():
                self.run.update(status="in_progress", started_at=self.run.get("started_at") or self._now())
                return [("thread.run.in_progress", self._run())]
            case RunFinished():
                return self._finish(event)
            case Start():
                out = self._settle() + self._close_tool_step("completed")
                self._unattributed = self._take_usage()  # a turn no step took (e.g. reasoning only)
                return out
            case BlockStart(kind="text" | "refusal", choice=0):
                return self._open_message(event.kind)
            case BlockStart(kind="tool_call", choice=0):
                out = self._open_tool_step()
                return [*out, self._add_call(function_call(event.call_id or "", event.name or ""), block=event.index)]
            case TextDelta(choice=0) | RefusalDelta(choice=0):
                return self._message_delta(event.text)
            case ArgumentsDelta(choice=0) if event.index in self._tool_index:
                position = self._tool_index[event.index]
                assert self._tool_step is not None
                call = self.steps[self._tool_step]["step_details"]["tool_calls"][position]
                call["function"]["arguments"] += event.arguments
                return [self._step_delta({"index": position, "type": "function",
                                          "function": {"arguments": event.arguments}})]
            case UsageReport():
                self._turn_usage = event.usage
            case Finish(choice=0):
                return self._close_message("incomplete" if event.reason == "length" else "completed", defer_step=True)
            case ItemStart(choice=0):
                return self._builtin(event.item, done=False)
            case ItemDone(choice=0) if isinstance(event.item, FileSearchCall | CodeInterpreterCall):
                return self._builtin(event.item, done=True)
        return []

    # -- messages ---------------------------------------------------------------------------

    def _open_message(self, kind: str) -> list[StreamEvent]:
        out = [*self._settle(), *self._close_message("completed"), *self._close_tool_step("completed")]
        now = self._now()
        message_id, step_id = self._new_id("msg_"), self._new_id("step_")
        step = step_object(step_id=step_id, run=self.run, created_at=now, details=message_details(message_id))
        message = message_object(message_id=message_id, run=self.run, created_at=now)
        images = [{"type": "image_file", "image_file": {"file_id": f}} for f in self._images] if kind == "text" else []
        if kind == "text":
            self._images = []
        message["content"] = [*images, text_content("") if kind == "text" else {"type": "refusal", "refusal": ""}]
        self.steps[step_id], self.messages[message_id] = step, message
        self._message, self._message_step, self._message_kind = message_id, step_id, kind
        self._text_index = len(images)
        shown = {**copy.deepcopy(message), "content": []}
        out += [("thread.run.step.created", self._shown(step)), ("thread.run.step.in_progress", self._shown(step)),
                ("thread.message.created", shown), ("thread.message.in_progress", copy.deepcopy(shown))]
        if images:
            out.append(("thread.message.delta", {"id": message_id, "object": "thread.message.delta", "delta": {
                "content": [{"index": n, **copy.deepcopy(block)} for n, block in enumerate(images)]}}))
        return out

    def _message_delta(self, text: str) -> list[StreamEvent]:
        if self._message is None or not text:
            return []
        part = self.messages[self._message]["content"][self._text_index]
        if self._message_kind == "text":
            part["text"]["value"] += text
            delta = {"index": self._text_index, "type": "text", "text": {"value": text, "annotations": []}}
        else:
            part["refusal"] += text
            delta = {"index": self._text_index, "type": "refusal", "refusal": text}
        return [("thread.message.delta", {"id": self._message, "object": "thread.message.delta",
                                          "delta": {"content": [delta]}})]

    def _annotate(self) -> list[StreamEvent]:
        """The open text message's citations of the files searched so far, and links to the
        files the code wrote (``run_annotations``), as one delta."""
        if self._message is None or self._message_kind != "text":
            return []
        text = self.messages[self._message]["content"][self._text_index]["text"]
        first = len(text["annotations"])
        added = cite_files(text, self._citations) + link_files(text, self._written)
        self._written = {}
        new = text["annotations"][first:]
        if not new:
            return []
        shown = [{"index": first + n, **a} for n, a in enumerate(new)]
        return [("thread.message.delta", {"id": self._message, "object": "thread.message.delta",
                                          "delta": {"content": [{"index": self._text_index, "type": "text",
                                                                 "text": {"value": added, "annotations": shown}}]}})]

    def _close_message(self, status: str, reason: str | None = None, *, step_status: str = "completed",
                       error: SwitchyardError | None = None, defer_step: bool = False) -> list[StreamEvent]:
        """The open message ends (``completed`` or ``incomplete``) and its step completes, or
        (``defer_step``: at the end of a turn, whose usage may come after) waits to."""
        if self._message is None:
            return []
        out = self._annotate() if status == "completed" else []
        message, now = self.messages[self._message], self._now()
        if status == "completed":
            message.update(status="completed", completed_at=now)
        else:
            message.update(status="incomplete", incomplete_at=now,
                           incomplete_details={"reason": reason or "max_tokens"})
        out.append((f"thread.message.{message['status']}", copy.deepcopy(message)))
        assert self._message_step is not None
        if defer_step:
            self._done_step = self._message_step
        else:
            out += self._end_step(self._message_step, step_status, error)
        self._message = self._message_step = None
        return out

    def _settle(self) -> list[StreamEvent]:
        """The step of a message that ended with its turn completes."""
        if self._done_step is None:
            return []
        step_id, self._done_step = self._done_step, None
        return self._end_step(step_id, "completed")

    def _take_usage(self) -> Usage:
        usage = self._unattributed.add(self._turn_usage)
        self._unattributed, self._turn_usage = Usage(), Usage()
        return usage

    # -- tool steps -------------------------------------------------------------------------

    def _open_tool_step(self) -> list[StreamEvent]:
        if self._tool_step is not None:
            return []
        out = self._settle() + self._close_message("completed")
        step_id = self._new_id("step_")
        self.steps[step_id] = step_object(step_id=step_id, run=self.run, created_at=self._now(),
                                          details=tool_calls_details())
        self._tool_step, self._tool_index, self._item_index = step_id, {}, {}
        step = self.steps[step_id]
        return [*out, ("thread.run.step.created", self._shown(step)),
                ("thread.run.step.in_progress", self._shown(step))]

    def _add_call(self, call: dict[str, Any], *, block: int | None = None, item: str | None = None) -> StreamEvent:
        assert self._tool_step is not None
        calls = self.steps[self._tool_step]["step_details"]["tool_calls"]
        position = len(calls)
        calls.append(call)
        if block is not None:
            self._tool_index[block] = position
        if item is not None:
            self._item_index[item] = position
        return self._step_delta({"index": position, **copy.deepcopy(call)})

    def _builtin(self, item: FileSearchCall | CodeInterpreterCall | Any, *, done: bool) -> list[StreamEvent]:
        if not isinstance(item, FileSearchCall | CodeInterpreterCall):
            return []  # Assistants have no place for MCP or image generation items
        out = self._open_tool_step()
        if isinstance(item, FileSearchCall):
            wire = file_search_call(item, with_content=True)
            if done:
                for r in item.results or []:
                    self._citations.setdefault(r.file_id, r.filename)
        else:
            wire = code_interpreter_call(item)
            if done:
                self._images += [o["image"]["file_id"] for o in wire["code_interpreter"]["outputs"]
                                 if o["type"] == "image"]
                self._written.update({f.file_id: f.filename for f in item.files})
        assert self._tool_step is not None
        calls = self.steps[self._tool_step]["step_details"]["tool_calls"]
        position = self._item_index.get(item.id)
        if position is None:
            shown = wire if done else _begun(wire)
            shown = public_step({"step_details": {"type": "tool_calls", "tool_calls": [shown]}},
                                search_content=self._search_content)["step_details"]["tool_calls"][0]
            out.append(self._add_call(shown, item=item.id))
            if done:
                calls[self._item_index[item.id]] = wire  # shown whole already
            return out
        calls[position] = wire
        if isinstance(item, FileSearchCall):  # the results, so a stream's step snapshot has them too
            shown_call = self._shown({"step_details": {"type": "tool_calls", "tool_calls": [wire]}})
            out.append(self._step_delta({"index": position, "type": "file_search", "id": item.id,
                                         "file_search": shown_call["step_details"]["tool_calls"][0]["file_search"]}))
        else:
            out.append(self._step_delta({"index": position, "type": "code_interpreter", "id": item.id,
                                         "code_interpreter": {"outputs": [{"index": n, **o} for n, o in enumerate(
                                             wire["code_interpreter"]["outputs"])]}}))
        return out

    def _step_delta(self, call_delta: dict[str, Any]) -> StreamEvent:
        assert self._tool_step is not None
        return ("thread.run.step.delta", {"id": self._tool_step, "object": "thread.run.step.delta",
                                          "delta": {"step_details": {"type": "tool_calls",
                                                                     "tool_calls": [call_delta]}}})

    def _close_tool_step(self, status: str, error: SwitchyardError | None = None) -> list[StreamEvent]:
        if self._tool_step is None:
            return []
        step_id, self._tool_step = self._tool_step, None
        return self._end_step(step_id, status, error)

    def _end_step(self, step_id: str, status: str, error: SwitchyardError | None = None) -> list[StreamEvent]:
        step, now = self.steps[step_id], self._now()
        step["status"] = status
        step[{"completed": "completed_at", "failed": "failed_at", "cancelled": "cancelled_at"}[status]] = now
        if error is not None:
            code = last_error(error)["code"]
            step["last_error"] = {"code": code if code == "rate_limit_exceeded" else "server_error",
                                  "message": error.message}
        step["usage"] = usage_out(usage_in(step.get("usage")).add(self._take_usage()))
        return [(f"thread.run.step.{status}", self._shown(step))]

    # -- the end ----------------------------------------------------------------------------

    def _finish(self, event: RunFinished) -> list[StreamEvent]:
        self.usage = event.usage
        settled = self._settle()
        now = event.finished_at
        waiting = self.steps.get(self._tool_step) if self._tool_step is not None else None
        if event.status == "completed" and waiting is not None and pending_function_calls(waiting):
            out = settled + self._close_message("completed")
            waiting["usage"] = usage_out(self._take_usage())
            action = required_action(waiting["step_details"]["tool_calls"])
            self.run.update(status="requires_action", required_action=action, expires_at=now + self._action_seconds)
            return [*out, ("thread.run.requires_action", self._run())]
        if event.status in ("completed", "incomplete"):
            out = settled + self._close_message(event.status, "max_tokens") + self._close_tool_step("completed")
        else:
            step_status = "failed" if event.status == "failed" else "cancelled"
            out = settled + self._close_message("incomplete", _MESSAGE_END_REASON[event.status],
                                                step_status=step_status, error=event.error)
            out += self._close_tool_step(step_status, event.error)
            if self.waiting is not None and self.waiting["status"] == "in_progress":  # it ends with the run
                self.steps[self.waiting["id"]] = self.waiting
                out += self._end_step(self.waiting["id"], step_status, event.error)
        self.run.update(status=event.status, usage=usage_out(self.total_usage), required_action=None,
                        expires_at=None)
        if event.status == "completed":
            self.run["completed_at"] = now
        elif event.status == "incomplete":
            limit = "max_prompt_tokens" if event.incomplete_reason == "max_prompt_tokens" else "max_completion_tokens"
            self.run.update(incomplete_details={"reason": limit}, completed_at=now)
        elif event.status == "failed":
            self.run.update(failed_at=now, last_error=last_error(event.error) if event.error is not None else
                            {"code": "server_error", "message": "The run failed."})
        else:
            self.run["cancelled_at"] = now
        return [*out, (f"thread.run.{event.status}", self._run())]

    def _shown(self, step: dict[str, Any]) -> dict[str, Any]:
        """A step as sent: file_search results' text only with the ``include``."""
        return copy.deepcopy(public_step(step, search_content=self._search_content))

    def _run(self) -> dict[str, Any]:
        return copy.deepcopy(self.run)


def _begun(call: dict[str, Any]) -> dict[str, Any]:
    """A built-in call as first shown, before its outcome."""
    if call["type"] == "file_search":
        return {"id": call["id"], "type": "file_search", "file_search": {}}
    return {"id": call["id"], "type": "code_interpreter",
            "code_interpreter": {"input": call["code_interpreter"]["input"], "outputs": []}}
