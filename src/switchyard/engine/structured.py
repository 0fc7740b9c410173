"""Structured outputs for backends that cannot enforce them (or enforce only part
of a schema, like the local model's grammar without numeric bounds): ask for JSON,
validate what comes back, retry a bounded number of times telling the model what
was wrong, then fail clearly."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import jsonschema
import orjson

from switchyard.core.errors import ErrorKind, SwitchyardError
from switchyard.core.events import Event
from switchyard.core.items import Message, TextPart, text_message
from switchyard.core.request import Request
from switchyard.core.result import Result, afold
from switchyard.engine.replay import events_from_result
from switchyard.providers.base import Provider

_FENCE = re.compile(r"^\s*```(?:json)?\s*(.*?)\s*```\s*$", re.DOTALL)


def needs_enforcement(request: Request) -> bool:
    fmt = request.response_format
    if fmt is not None and fmt.type in ("json_object", "json_schema"):
        return True
    return any(t.strict for t in request.tools)


def _instruction(request: Request) -> str | None:
    fmt = request.response_format
    if fmt is None or fmt.type == "text":
        return None
    if fmt.type == "json_object":
        return "Answer with one JSON object and nothing else: no prose, no code fences."
    schema = orjson.dumps(fmt.schema or {}).decode()
    return (
        "Answer with one JSON value that validates against this JSON Schema, and nothing else "
        f"(no prose, no code fences):\n{schema}"
    )


def _problem(result: Result, request: Request) -> str | None:
    """What is wrong with ``result``, or None; fixes code-fenced JSON in place."""
    fmt = request.response_format
    for choice in result.choices:
        if fmt is not None and fmt.type != "text" and not choice.tool_calls():
            text = choice.text()
            fenced = _FENCE.match(text)
            if fenced:
                text = fenced.group(1)
                choice.items = [i for i in choice.items if not isinstance(i, Message)]
                choice.items.append(Message(role="assistant", content=[TextPart(text)]))
            try:
                value: Any = orjson.loads(text)
            except orjson.JSONDecodeError as exc:
                return f"output is not JSON ({exc})"
            if fmt.type == "json_object" and not isinstance(value, dict):
                return "output is not a JSON object"
            if fmt.type == "json_schema" and (err := _schema_error(value, fmt.schema)):
                return err
        for call in choice.tool_calls():
            tool = request.tool(call.name)
            if tool is None or not tool.strict:
                continue
            try:
                args = orjson.loads(call.arguments or "{}")
            except orjson.JSONDecodeError as exc:
                return f"arguments of {call.name} are not JSON ({exc})"
            if err := _schema_error(args, tool.parameters):
                return f"arguments of {call.name}: {err}"
    return None


def _feedback(result: Result, problem: str) -> list[Message]:
    """The rejected answer and why, so that a retry is not the same draw again."""
    out = []
    text = result.choices[0].text() if result.choices else ""
    if text:
        out.append(text_message("assistant", text))
    out.append(text_message("user", f"That answer is invalid: {problem}. Answer again, correcting it."))
    return out


def _schema_error(value: Any, schema: dict[str, Any] | None) -> str | None:
    try:
        jsonschema.validate(value, schema or {}, cls=jsonschema.Draft202012Validator)
    except jsonschema.ValidationError as exc:
        return exc.message
    except jsonschema.SchemaError as exc:
        raise SwitchyardError(
            ErrorKind.INVALID_REQUEST, f"Invalid JSON schema: {exc.message}", param="response_format"
        ) from exc
    return None


async def enforce(provider: Provider, request: Request, retries: int) -> AsyncIterator[Event]:
    instruction = _instruction(request)
    attempt = replace(request, stream=False)  # every attempt is buffered anyway
    if instruction is not None:
        attempt = replace(attempt, items=[text_message("system", instruction), *request.items])
    problem = "no attempt made"
    for _ in range(retries + 1):
        result = await afold(provider.generate(attempt))
        problem = _problem(result, request) or ""
        if not problem:
            for event in events_from_result(result):
                yield event
            return
        attempt = replace(attempt, items=[*attempt.items, *_feedback(result, problem)])
    raise SwitchyardError(
        ErrorKind.UPSTREAM,
        f"The model did not produce valid structured output after {retries + 1} attempts: {problem}",
        code="structured_output_failed",
    )
