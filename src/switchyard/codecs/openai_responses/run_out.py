"""An agent run's events (``core.run_events``) as a Responses stream: the lifecycle
events around the items, and the ``Response`` object at each point of the run."""

from __future__ import annotations

from typing import Any

from switchyard.codecs.openai_responses.call import NewItemId, ResponsesCall
from switchyard.codecs.openai_responses.response_out import build_response
from switchyard.codecs.openai_responses.stream_out import ResponsesStreamEncoder
from switchyard.core.errors import ErrorKind, SwitchyardError
from switchyard.core.run_events import RunEvent, RunFinished, RunStarted
from switchyard.core.usage import Usage

SEARCH_RESULTS_INCLUDE = "file_search_call.results"
CODE_OUTPUTS_INCLUDE = "code_interpreter_call.outputs"


class ResponsesRunEncoder:
    """``RunStarted`` → ``response.created`` (``.queued`` for a background response) and
    ``.in_progress``; ``RunFinished`` → items still open closed ``incomplete``, then
    ``response.completed`` / ``.incomplete`` / ``.failed`` (nothing for ``cancelled``);
    everything between goes through ``ResponsesStreamEncoder``."""

    def __init__(self, call: ResponsesCall, *, response_id: str, created_at: int, new_item_id: NewItemId,
                 background: bool = False) -> None:
        self.call = call
        self.response_id = response_id
        self.created_at = created_at
        self.background = background
        summary = call.reasoning is not None and call.reasoning.summary is not None
        self.stream = ResponsesStreamEncoder(new_item_id=new_item_id, reasoning_as="summary" if summary else "text",
                                             search_results=SEARCH_RESULTS_INCLUDE in call.include,
                                             code_outputs=CODE_OUTPUTS_INCLUDE in call.include)
        self.started = False
        self.status = "queued" if background else "in_progress"
        self.final: dict[str, Any] | None = None

    @property
    def output(self) -> list[dict[str, Any]]:
        return self.stream.output

    def body(self, status: str, *, usage: Usage | None = None, error: dict[str, Any] | None = None,
             incomplete_details: dict[str, Any] | None = None, completed_at: int | None = None) -> dict[str, Any]:
        return build_response(self.call, id=self.response_id, created_at=self.created_at, status=status,
                              output=list(self.stream.output), usage=usage, error=error,
                              incomplete_details=incomplete_details, completed_at=completed_at)

    def feed(self, event: RunEvent) -> list[dict[str, Any]]:
        match event:
            case RunStarted():
                return self._start()
            case RunFinished():
                return self._finish(event)
        return self.stream.feed(event)

    def _start(self) -> list[dict[str, Any]]:
        self.started = True
        first = "queued" if self.background else "in_progress"
        out = [self.stream.lifecycle("response.created", self.body(first))]
        if self.background:
            out.append(self.stream.lifecycle("response.queued", self.body("queued")))
        out.append(self.stream.lifecycle("response.in_progress", self.body("in_progress")))
        return out

    def _finish(self, event: RunFinished) -> list[dict[str, Any]]:
        self.status = event.status
        if event.status == "cancelled":
            out = self.stream.close_open("incomplete") if self.started else []
            self.final = self.body("cancelled", usage=event.usage)
            return out
        out = self.stream.close_open("incomplete") if event.status == "failed" else []
        error = None if event.error is None else {"code": _error_code(event.error), "message": event.error.message}
        details = {"reason": event.incomplete_reason} if event.status == "incomplete" else None
        self.final = self.body(event.status, usage=event.usage, error=error, incomplete_details=details,
                               completed_at=event.finished_at if event.status == "completed" else None)
        return [*out, self.stream.lifecycle(f"response.{event.status}", self.final)]


def _error_code(error: SwitchyardError) -> str:
    if error.kind in (ErrorKind.RATE_LIMIT, ErrorKind.QUOTA):  # the spec has no insufficient_quota code here
        return "rate_limit_exceeded"
    if error.kind is ErrorKind.INVALID_REQUEST:
        return "invalid_prompt"
    return "server_error"
