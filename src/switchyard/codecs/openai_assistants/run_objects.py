"""The wire objects of an Assistants run: the ``thread.run``, its ``thread.run.step``s
and the ``thread.message``s it writes, as the ``openai`` SDK's ``beta.threads`` types
shape them. Plain dicts, so that what is stored is what is sent."""

from __future__ import annotations

from typing import Any

from switchyard.core.errors import ErrorKind, SwitchyardError
from switchyard.core.tool_items import CodeImage, CodeInterpreterCall, CodeLogs, FileSearchCall
from switchyard.core.usage import Usage

RUN_TERMINAL = frozenset({"completed", "incomplete", "failed", "cancelled", "expired"})
STEP_TERMINAL = frozenset({"completed", "failed", "cancelled", "expired"})
REQUIRES_ACTION_SECONDS = 600
SEARCH_CONTENT_INCLUDE = "step_details.tool_calls[*].file_search.results[*].content"
DEFAULT_RANKING = {"ranker": "default_2024_08_21", "score_threshold": 0.0}


def usage_out(usage: Usage) -> dict[str, int]:
    return {"prompt_tokens": usage.input_tokens, "completion_tokens": usage.output_tokens,
            "total_tokens": usage.total_tokens}


def usage_in(wire: dict[str, Any] | None) -> Usage:
    if not wire:
        return Usage()
    return Usage(input_tokens=int(wire.get("prompt_tokens", 0)), output_tokens=int(wire.get("completion_tokens", 0)))


def error_code(error: SwitchyardError) -> str:
    """``last_error.code``: the SDK knows three."""
    if error.kind in (ErrorKind.RATE_LIMIT, ErrorKind.QUOTA):
        return "rate_limit_exceeded"
    if error.kind is ErrorKind.INVALID_REQUEST:
        return "invalid_prompt"
    return "server_error"


def last_error(error: SwitchyardError) -> dict[str, str]:
    return {"code": error_code(error), "message": error.message}


def step_object(*, step_id: str, run: dict[str, Any], created_at: int, details: dict[str, Any]) -> dict[str, Any]:
    """A new ``in_progress`` step of ``run``; ``details`` is its ``step_details``."""
    return {
        "id": step_id, "object": "thread.run.step", "created_at": created_at, "assistant_id": run["assistant_id"],
        "thread_id": run["thread_id"], "run_id": run["id"], "type": details["type"], "status": "in_progress",
        "step_details": details, "last_error": None, "expired_at": None, "cancelled_at": None, "failed_at": None,
        "completed_at": None, "metadata": None, "usage": None,
    }


def message_details(message_id: str) -> dict[str, Any]:
    return {"type": "message_creation", "message_creation": {"message_id": message_id}}


def tool_calls_details() -> dict[str, Any]:
    return {"type": "tool_calls", "tool_calls": []}


def message_object(*, message_id: str, run: dict[str, Any], created_at: int) -> dict[str, Any]:
    """A new ``in_progress`` assistant message written by ``run``."""
    return {
        "id": message_id, "object": "thread.message", "created_at": created_at, "thread_id": run["thread_id"],
        "role": "assistant", "content": [], "assistant_id": run["assistant_id"], "run_id": run["id"],
        "attachments": [], "metadata": {}, "status": "in_progress", "incomplete_details": None,
        "completed_at": None, "incomplete_at": None,
    }


def text_content(value: str, annotations: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {"type": "text", "text": {"value": value, "annotations": list(annotations or [])}}


def function_call(call_id: str, name: str, arguments: str = "", output: str | None = None) -> dict[str, Any]:
    return {"id": call_id, "type": "function", "function": {"name": name, "arguments": arguments, "output": output}}


def code_outputs(call: CodeInterpreterCall) -> list[dict[str, Any]]:
    """Logs as ``logs`` outputs, images as ``image`` outputs naming their File (``file-…``
    or ``file://file-…``); an image given only inline (a data URL) has no File to name
    and is left out."""
    out: list[dict[str, Any]] = []
    for output in call.outputs or []:
        if isinstance(output, CodeLogs):
            out.append({"type": "logs", "logs": output.logs})
        elif isinstance(output, CodeImage) and not output.url.startswith("data:"):
            out.append({"type": "image", "image": {"file_id": output.url.removeprefix("file://")}})
    return out


def code_interpreter_call(call: CodeInterpreterCall) -> dict[str, Any]:
    """With the container it ran in as a private ``_container_id`` (kept in the store so the
    thread's next code runs there; ``public_step`` leaves it out of what is shown)."""
    wire: dict[str, Any] = {"id": call.id, "type": "code_interpreter",
                            "code_interpreter": {"input": call.code, "outputs": code_outputs(call)}}
    if call.container_id:
        wire["_container_id"] = call.container_id
    return wire


def file_search_call(call: FileSearchCall, *, with_content: bool) -> dict[str, Any]:
    """Its results (each one's ``content`` only when ``include``d, as OpenAI shows them)."""
    results = []
    for r in call.results or []:
        result: dict[str, Any] = {"file_id": r.file_id, "file_name": r.filename, "score": r.score}
        if with_content:
            result["content"] = [{"type": "text", "text": r.text}]
        results.append(result)
    return {"id": call.id, "type": "file_search",
            "file_search": {"ranking_options": dict(DEFAULT_RANKING), "results": results}}


def public_step(step: dict[str, Any], *, search_content: bool) -> dict[str, Any]:
    """A stored step as shown: without private keys, and without the text of file_search
    results (which the store keeps) unless ``include``d."""
    details = step.get("step_details") or {}
    if details.get("type") != "tool_calls":
        return step
    calls = []
    for call in details.get("tool_calls") or []:
        call = {k: v for k, v in call.items() if not k.startswith("_")}
        if call.get("type") == "file_search" and not search_content:
            search = call.get("file_search") or {}
            results = [{k: v for k, v in r.items() if k != "content"} for r in search.get("results") or []]
            call = {**call, "file_search": {**search, "results": results}}
        calls.append(call)
    return {**step, "step_details": {**details, "tool_calls": calls}}


def latest_container(steps: list[dict[str, Any]]) -> str | None:
    """The container the newest code_interpreter call of ``steps`` (newest first) ran in."""
    for step in steps:
        for call in reversed((step.get("step_details") or {}).get("tool_calls") or []):
            if call.get("type") == "code_interpreter" and call.get("_container_id"):
                return str(call["_container_id"])
    return None


def required_action(calls: list[dict[str, Any]]) -> dict[str, Any]:
    """``submit_tool_outputs`` for the step's function calls (without their outputs)."""
    tool_calls = [{"id": c["id"], "type": "function",
                   "function": {"name": c["function"]["name"], "arguments": c["function"]["arguments"]}}
                  for c in calls if c.get("type") == "function"]
    return {"type": "submit_tool_outputs", "submit_tool_outputs": {"tool_calls": tool_calls}}


def pending_function_calls(step: dict[str, Any]) -> list[dict[str, Any]]:
    details = step.get("step_details") or {}
    return [c for c in details.get("tool_calls") or [] if c.get("type") == "function"]
