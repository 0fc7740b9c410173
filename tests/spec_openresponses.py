"""The Open Responses specification (2026-04-24) as JSON Schema, written here from the
spec for what the tests check: the ``ResponseResource``, its items and usage, the
``CompactResource`` of ``/responses/compact``, and every streaming event. Required keys
and their types follow the spec; extra keys are allowed, as the spec allows extensions.

``validate_open_responses(obj, "ResponseResource")`` checks one object;
``validate_open_responses_event(event)`` picks the event's schema by its ``type``.
"""

from __future__ import annotations

import functools
from typing import Any

import jsonschema

Schema = dict[str, Any]

INT: Schema = {"type": "integer"}
NUM: Schema = {"type": "number"}
STR: Schema = {"type": "string"}
BOOL: Schema = {"type": "boolean"}
ARRAY: Schema = {"type": "array"}
OBJECT: Schema = {"type": "object"}


def null_or(schema: Schema) -> Schema:
    return {"anyOf": [schema, {"type": "null"}]}


def enum(*values: str) -> Schema:
    return {"type": "string", "enum": list(values)}


def array_of(schema: Schema) -> Schema:
    return {"type": "array", "items": schema}


def obj(required: dict[str, Schema], optional: dict[str, Schema] | None = None) -> Schema:
    return {"type": "object", "required": list(required), "properties": {**required, **(optional or {})}}


ITEM_STATUS = enum("in_progress", "completed", "incomplete")
USAGE = obj({"input_tokens": INT, "output_tokens": INT, "total_tokens": INT,
             "input_tokens_details": obj({"cached_tokens": INT}),
             "output_tokens_details": obj({"reasoning_tokens": INT})})
OUTPUT_TEXT = obj({"type": enum("output_text"), "text": STR, "annotations": ARRAY}, {"logprobs": ARRAY})
CONTENT_PART: Schema = {"anyOf": [
    OUTPUT_TEXT,
    obj({"type": enum("input_text"), "text": STR}),
    obj({"type": enum("text"), "text": STR}),
    obj({"type": enum("summary_text"), "text": STR}),
    obj({"type": enum("reasoning_text"), "text": STR}),
    obj({"type": enum("refusal"), "refusal": STR}),
    obj({"type": enum("input_image")}, {"image_url": null_or(STR)}),
    obj({"type": enum("input_file")}),
    obj({"type": enum("input_video")}),
]}
MESSAGE = obj({"type": enum("message"), "id": STR, "status": ITEM_STATUS,
               "role": enum("user", "assistant", "system", "developer"), "content": array_of(CONTENT_PART)},
              {"phase": enum("commentary", "final_answer")})
FUNCTION_CALL = obj({"type": enum("function_call"), "id": STR, "call_id": STR, "name": STR, "arguments": STR,
                     "status": ITEM_STATUS})
FUNCTION_CALL_OUTPUT = obj({"type": enum("function_call_output"), "id": STR, "call_id": STR,
                            "output": {"anyOf": [STR, ARRAY]}, "status": ITEM_STATUS})
REASONING = obj({"type": enum("reasoning"), "id": STR, "summary": array_of(CONTENT_PART)},
                {"content": array_of(CONTENT_PART), "encrypted_content": null_or(STR)})
COMPACTION = obj({"type": enum("compaction"), "id": STR, "encrypted_content": STR})
ITEM: Schema = {"oneOf": [MESSAGE, FUNCTION_CALL, FUNCTION_CALL_OUTPUT, REASONING, COMPACTION]}

RESPONSE = obj({
    "id": STR, "object": enum("response"), "created_at": INT, "completed_at": null_or(INT), "status": STR,
    "incomplete_details": null_or(obj({"reason": STR})), "model": STR, "previous_response_id": null_or(STR),
    "instructions": null_or(STR), "output": array_of(ITEM), "error": null_or(obj({"code": STR, "message": STR})),
    "tools": array_of(OBJECT),
    "tool_choice": {"anyOf": [enum("none", "auto", "required"), OBJECT]},
    "truncation": enum("auto", "disabled"), "parallel_tool_calls": BOOL, "text": obj({"format": OBJECT}),
    "top_p": NUM, "presence_penalty": NUM, "frequency_penalty": NUM, "top_logprobs": INT, "temperature": NUM,
    "reasoning": null_or(OBJECT), "usage": null_or(USAGE), "max_output_tokens": null_or(INT),
    "max_tool_calls": null_or(INT), "store": BOOL, "background": BOOL, "service_tier": STR, "metadata": {},
    "safety_identifier": null_or(STR), "prompt_cache_key": null_or(STR),
})

COMPACT_RESOURCE = obj({"id": STR, "object": enum("response.compaction"), "output": array_of(ITEM),
                        "created_at": INT, "usage": USAGE})

SCHEMAS: dict[str, Schema] = {
    "ResponseResource": RESPONSE, "Usage": USAGE, "Message": MESSAGE, "FunctionCall": FUNCTION_CALL,
    "ItemField": ITEM, "CompactResource": COMPACT_RESOURCE,
}

_PART = {"item_id": STR, "output_index": INT, "content_index": INT}
_SUMMARY = {"item_id": STR, "output_index": INT, "summary_index": INT}
_EVENT_FIELDS: dict[str, dict[str, Schema]] = {
    **{f"response.{s}": {"response": RESPONSE}
       for s in ("created", "queued", "in_progress", "completed", "failed", "incomplete")},
    "response.output_item.added": {"output_index": INT, "item": ITEM},
    "response.output_item.done": {"output_index": INT, "item": ITEM},
    "response.content_part.added": {**_PART, "part": CONTENT_PART},
    "response.content_part.done": {**_PART, "part": CONTENT_PART},
    "response.output_text.delta": {**_PART, "delta": STR},
    "response.output_text.done": {**_PART, "text": STR},
    "response.output_text.annotation.added": {**_PART, "annotation_index": INT, "annotation": OBJECT},
    "response.refusal.delta": {**_PART, "delta": STR},
    "response.refusal.done": {**_PART, "refusal": STR},
    "response.function_call_arguments.delta": {"item_id": STR, "output_index": INT, "delta": STR},
    "response.function_call_arguments.done": {"item_id": STR, "output_index": INT, "arguments": STR},
    "response.reasoning.delta": {**_PART, "delta": STR},
    "response.reasoning.done": {**_PART, "text": STR},
    "response.reasoning_summary_part.added": {**_SUMMARY, "part": CONTENT_PART},
    "response.reasoning_summary_part.done": {**_SUMMARY, "part": CONTENT_PART},
    "response.reasoning_summary_text.delta": {**_SUMMARY, "delta": STR},
    "response.reasoning_summary_text.done": {**_SUMMARY, "text": STR},
    "error": {"error": obj({"type": STR, "code": null_or(STR), "message": STR, "param": null_or(STR)})},
}


def event_types() -> frozenset[str]:
    return frozenset(_EVENT_FIELDS)


@functools.cache
def _validator(name: str) -> jsonschema.Draft202012Validator:
    if name in SCHEMAS:
        return jsonschema.Draft202012Validator(SCHEMAS[name])
    fields = _EVENT_FIELDS[name]
    return jsonschema.Draft202012Validator(obj({"type": enum(name), "sequence_number": INT, **fields}))


def _check(obj_: Any, name: str) -> None:
    errors = sorted(_validator(name).iter_errors(obj_), key=lambda e: list(e.path))
    if errors:
        lines = [f"  at {'/'.join(str(p) for p in e.absolute_path) or '<root>'}: {e.message[:300]}"
                 for e in errors]
        raise AssertionError(f"object does not match Open Responses {name}:\n" + "\n".join(lines))


def validate_open_responses(obj_: Any, schema_name: str) -> None:
    """Raise AssertionError listing every place where ``obj_`` breaks the schema."""
    if schema_name not in SCHEMAS:
        raise AssertionError(f"no Open Responses schema named {schema_name!r}")
    _check(obj_, schema_name)


def validate_open_responses_event(event: dict[str, Any]) -> None:
    """A streaming event against the schema its ``type`` names; an event type the spec
    does not define is an error."""
    kind = event.get("type", "")
    if kind not in _EVENT_FIELDS:
        raise AssertionError(f"event type {kind!r} is not an Open Responses streaming event")
    _check(event, kind)
