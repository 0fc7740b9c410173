"""ResponsesRunEncoder: an agent run's events as the Responses stream and Response bodies."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from switchyard.codecs.openai_responses import decode_request
from switchyard.codecs.openai_responses.run_out import ResponsesRunEncoder
from switchyard.core.errors import ErrorKind, SwitchyardError
from switchyard.core.events import BlockStart, BlockStop, Finish, ItemDone, ItemStart, Start, TextDelta
from switchyard.core.run_events import RunEvent, RunFinished, RunStarted, RunStatus
from switchyard.core.tool_items import FileSearchCall, FileSearchResult
from switchyard.core.usage import Usage
from tests.spec import validate_openai

USAGE = Usage(input_tokens=7, output_tokens=3)


def encode(events: list[RunEvent], *, background: bool = False, body: dict[str, Any] | None = None
           ) -> tuple[ResponsesRunEncoder, list[dict[str, Any]]]:
    counter = itertools.count(1)
    call = decode_request({"model": "m", "input": "hi", **(body or {})})
    enc = ResponsesRunEncoder(call, response_id="resp_1", created_at=1, background=background,
                              new_item_id=lambda prefix: f"{prefix}{next(counter)}")
    out = [wire for event in events for wire in enc.feed(event)]
    for wire in out:
        validate_openai(wire, "ResponseStreamEvent")
    return enc, out


def finished(status: RunStatus, **kw: Any) -> RunFinished:
    return RunFinished(status, USAGE, 100, **kw)


PARTIAL: list[RunEvent] = [RunStarted(), Start(), BlockStart(0, "text"), TextDelta(0, "par")]

CASES = [
    pytest.param([RunStarted(), finished("completed")], False,
                 ["response.created", "response.in_progress", "response.completed"], "completed", id="completed"),
    pytest.param([RunStarted(), finished("completed")], True,
                 ["response.created", "response.queued", "response.in_progress", "response.completed"],
                 "completed", id="background"),
    pytest.param([*PARTIAL, finished("failed", error=SwitchyardError(ErrorKind.UPSTREAM, "down"))], False,
                 ["response.created", "response.in_progress", "response.output_item.added",
                  "response.content_part.added", "response.output_text.delta", "response.output_text.done",
                  "response.content_part.done", "response.output_item.done", "response.failed"],
                 "failed", id="failed-closes-open-items"),
    pytest.param([*PARTIAL, finished("cancelled")], False,
                 ["response.created", "response.in_progress", "response.output_item.added",
                  "response.content_part.added", "response.output_text.delta", "response.output_text.done",
                  "response.content_part.done", "response.output_item.done"], "cancelled",
                 id="cancelled-no-terminal-event"),
    pytest.param([finished("cancelled")], True, [], "cancelled", id="cancelled-before-start-silent"),
    pytest.param([RunStarted(), finished("incomplete", incomplete_reason="max_output_tokens")], False,
                 ["response.created", "response.in_progress", "response.incomplete"], "incomplete",
                 id="incomplete"),
]


@pytest.mark.parametrize(("events", "background", "types", "status"), CASES)
def test_lifecycle(events: list[RunEvent], background: bool, types: list[str], status: str) -> None:
    enc, out = encode(events, background=background)
    assert [e["type"] for e in out] == types
    assert [e["sequence_number"] for e in out] == list(range(len(out)))
    assert enc.final is not None and enc.final["status"] == status
    assert enc.final["usage"]["output_tokens"] == 3
    validate_openai(enc.final, "Response")


def test_failed_body_carries_the_error_and_incomplete_its_reason() -> None:
    enc, _ = encode([RunStarted(), finished("failed", error=SwitchyardError(ErrorKind.RATE_LIMIT, "slow down"))])
    assert enc.final is not None and enc.final["error"] == {"code": "rate_limit_exceeded", "message": "slow down"}
    enc, _ = encode([RunStarted(), finished("incomplete", incomplete_reason="max_output_tokens")])
    assert enc.final is not None and enc.final["incomplete_details"] == {"reason": "max_output_tokens"}
    assert enc.final["completed_at"] is None


@pytest.mark.parametrize("include", [True, False], ids=["results-included", "results-left-out"])
def test_search_results_follow_include_and_cite_the_answer(include: bool) -> None:
    results = [FileSearchResult("file-1", "a.txt", 0.9, "alpha", {})]
    enc, out = encode([RunStarted(), ItemStart(FileSearchCall("fs_9", ["q"], None, "in_progress")),
                       ItemDone(FileSearchCall("fs_9", ["q"], results)), Start(), BlockStart(0, "text"),
                       TextDelta(0, "Alpha."), BlockStop(0), Finish("stop"), finished("completed")],
                      body={"include": ["file_search_call.results"]} if include else None)
    search, message = enc.output
    assert search["results"] == ([{"file_id": "file-1", "filename": "a.txt", "score": 0.9, "attributes": {},
                                   "text": "alpha"}] if include else None)
    assert message["content"][0]["annotations"] == [
        {"type": "file_citation", "file_id": "file-1", "filename": "a.txt", "index": 6}]
    assert [e["type"] for e in out if "file_search_call" in e["type"]] == [
        "response.file_search_call.in_progress", "response.file_search_call.searching",
        "response.file_search_call.completed"]
