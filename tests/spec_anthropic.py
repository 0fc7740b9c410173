"""Validate JSON objects against Anthropic's wire contract as the official ``anthropic``
SDK's types state it (schemas generated and tightened at test time: tests/sdk_schema.py).

``validate_anthropic(obj, "Message")``: the names are those of the components of
Anthropic's OpenAPI document, each mapped to the SDK type that parses (or, for
request parameters, types) it.
"""

from __future__ import annotations

import functools
from typing import Annotated, Any, Literal

import jsonschema
from anthropic.types import (
    Message,
    MessageDeltaUsage,
    RawContentBlockDeltaEvent,
    RawContentBlockStartEvent,
    RawContentBlockStopEvent,
    RawMessageDeltaEvent,
    RawMessageStartEvent,
    RawMessageStopEvent,
    Usage,
    raw_message_delta_event,
)
from anthropic.types.message_create_params import MessageCreateParamsBase
from anthropic.types.messages import DeletedMessageBatch, MessageBatch, MessageBatchIndividualResponse
from anthropic.types.shared import ErrorResponse
from pydantic import BaseModel, Field

from tests.sdk_schema import AlwaysPresent, assert_valid, validator


class CreateMessageParams(MessageCreateParamsBase, total=False):
    """The SDK splits the body in two by ``stream``; an upstream request is either. The
    sampling parameters are deprecated (models after Claude Opus 4.6 refuse them) and
    this SDK no longer types them, but the API still takes them for older models."""

    stream: bool
    temperature: Annotated[float, Field(ge=0, le=1)]
    top_k: Annotated[int, Field(ge=0)]
    top_p: Annotated[float, Field(ge=0, le=1)]


class ListMessageBatches(BaseModel):
    """The body the SDK reads its batch pages from."""

    data: list[MessageBatch]
    first_id: str | None
    last_id: str | None
    has_more: bool


class PingEvent(BaseModel):
    """Not among the SDK's stream events (it skips pings)."""

    type: Literal["ping"]


SCHEMAS: dict[str, Any] = {
    "Message": Message,
    "ErrorResponse": ErrorResponse,
    "CreateMessageParams": CreateMessageParams,
    "MessageStartEvent": RawMessageStartEvent,
    "ContentBlockStartEvent": RawContentBlockStartEvent,
    "ContentBlockDeltaEvent": RawContentBlockDeltaEvent,
    "ContentBlockStopEvent": RawContentBlockStopEvent,
    "MessageDeltaEvent": RawMessageDeltaEvent,
    "MessageStopEvent": RawMessageStopEvent,
    "PingEvent": PingEvent,
    "MessageBatch": MessageBatch,
    "MessageBatchIndividualResponse": MessageBatchIndividualResponse,
    "DeleteMessageBatchResponse": DeletedMessageBatch,
    "ListResponse_MessageBatch_": ListMessageBatches,
}

# Sent on every object, as null when empty: required (and nullable) in Anthropic's API
# reference; the SDK types them ``Optional[...] = None`` like truly optional fields.
# Not content blocks' ``citations``: the reference requires it, but the API leaves it
# out of text blocks, and clients (the AI SDK) refuse it as null.
REQUESTS = {"CreateMessageParams"}

ALWAYS_PRESENT: AlwaysPresent = {
    Message: frozenset({"stop_reason", "stop_sequence", "stop_details", "container"}),
    Usage: frozenset({"cache_creation", "cache_creation_input_tokens", "cache_read_input_tokens",
                      "inference_geo", "server_tool_use", "service_tier"}),
    raw_message_delta_event.Delta: frozenset({"stop_reason", "stop_sequence", "stop_details", "container"}),
    MessageDeltaUsage: frozenset({"input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens",
                                  "server_tool_use"}),
    ErrorResponse: frozenset({"request_id"}),
    MessageBatch: frozenset({"archived_at", "cancel_initiated_at", "ended_at", "results_url"}),
}


@functools.cache
def _validator(schema_name: str) -> jsonschema.Draft202012Validator:
    if schema_name not in SCHEMAS:
        raise AssertionError(f"no SDK type for {schema_name!r} in tests/spec_anthropic.py")
    return validator(SCHEMAS[schema_name], ALWAYS_PRESENT, request=schema_name in REQUESTS)


def validate_anthropic(obj: dict[str, Any], schema_name: str) -> None:
    """Raise AssertionError listing every place where ``obj`` breaks the schema."""
    assert_valid(_validator(schema_name), obj, f"Anthropic {schema_name}")


STREAM_EVENT_SCHEMAS = {
    "message_start": "MessageStartEvent",
    "content_block_start": "ContentBlockStartEvent",
    "content_block_delta": "ContentBlockDeltaEvent",
    "content_block_stop": "ContentBlockStopEvent",
    "message_delta": "MessageDeltaEvent",
    "message_stop": "MessageStopEvent",
    "error": "ErrorResponse",
}


def validate_anthropic_event(name: str, data: dict[str, Any]) -> None:
    """Validate one SSE event: its name must be a known event type, and its data that type."""
    if name == "ping":
        assert data == {"type": "ping"}, data
        return
    assert name in STREAM_EVENT_SCHEMAS, f"unknown event {name!r}"
    assert data.get("type") == name, f"event {name!r} carries type {data.get('type')!r}"
    validate_anthropic(data, STREAM_EVENT_SCHEMAS[name])
