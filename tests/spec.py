"""Validate JSON objects against OpenAI's wire contract as the official ``openai`` SDK's
types state it (schemas generated and tightened at test time: tests/sdk_schema.py).

``validate_openai(obj, "CreateChatCompletionResponse")``: the names are those of the
components of OpenAI's OpenAPI document, each mapped to the SDK type that parses it.
"""

from __future__ import annotations

import functools
from typing import Any, Literal

import jsonschema
from openai.types import (
    CreateEmbeddingResponse,
    ErrorObject,
    FileDeleted,
    FileObject,
    ImageEditStreamEvent,
    ImageGenStreamEvent,
    ImagesResponse,
    ModerationCreateResponse,
    Upload,
)
from openai.types.chat import (
    ChatCompletion,
    ChatCompletionChunk,
    ChatCompletionMessage,
    ChatCompletionTokenLogprob,
    chat_completion,
    chat_completion_chunk,
    chat_completion_token_logprob,
)
from openai.types.completion import Completion
from openai.types.completion_choice import CompletionChoice
from openai.types.responses import (
    CompactedResponse,
    FunctionTool,
    Response,
    ResponseErrorEvent,
    ResponseItem,
    ResponseOutputText,
    ResponseOutputTextAnnotationAddedEvent,
    ResponseStreamEvent,
)
from openai.types.uploads import UploadPart
from pydantic import BaseModel

from tests.sdk_schema import AlwaysPresent, assert_valid, validator


class ErrorResponse(BaseModel):
    """The SDK raises on an error body instead of parsing it; its ``error`` is this."""

    error: ErrorObject


class ListFilesResponse(BaseModel):
    """The SDK reads lists into pages; this is the body they are read from."""

    object: Literal["list"]
    data: list[FileObject]
    first_id: str
    last_id: str
    has_more: bool


class CompactResource(CompactedResponse):
    """A compacted output starts with the conversation's user messages (as OpenAI's own
    answers do); the SDK's type admits only output items there, so any item goes."""

    output: list[ResponseItem]  # type: ignore[assignment]


SCHEMAS: dict[str, Any] = {
    "ErrorResponse": ErrorResponse,
    "CreateChatCompletionResponse": ChatCompletion,
    "CreateChatCompletionStreamResponse": ChatCompletionChunk,
    "CreateCompletionResponse": Completion,
    "CreateEmbeddingResponse": CreateEmbeddingResponse,
    "Response": Response,
    "ResponseStreamEvent": ResponseStreamEvent,
    "CompactResource": CompactResource,
    "OpenAIFile": FileObject,
    "ListFilesResponse": ListFilesResponse,
    "DeleteFileResponse": FileDeleted,
    "Upload": Upload,
    "UploadPart": UploadPart,
    "CreateModerationResponse": ModerationCreateResponse,
    "ImagesResponse": ImagesResponse,
    "ImageGenStreamEvent": ImageGenStreamEvent,
    "ImageEditStreamEvent": ImageEditStreamEvent,
}

# Sent on every object, as null when empty: required (and nullable) in OpenAI's API
# reference; the SDK types them ``Optional[...] = None`` like truly optional fields.
ALWAYS_PRESENT: AlwaysPresent = {
    ErrorObject: frozenset({"param", "code"}),
    ChatCompletionMessage: frozenset({"content", "refusal"}),
    chat_completion.Choice: frozenset({"logprobs"}),
    chat_completion.ChoiceLogprobs: frozenset({"content", "refusal"}),
    chat_completion_chunk.Choice: frozenset({"finish_reason"}),
    chat_completion_chunk.ChoiceLogprobs: frozenset({"content", "refusal"}),
    ChatCompletionTokenLogprob: frozenset({"bytes"}),
    chat_completion_token_logprob.TopLogprob: frozenset({"bytes"}),
    CompletionChoice: frozenset({"logprobs"}),
    Response: frozenset({"error", "incomplete_details", "instructions", "metadata", "temperature", "top_p",
                         "usage"}),  # usage: null until the run ends (response.created, a queued GET)
    FunctionTool: frozenset({"parameters", "strict"}),
    ResponseOutputText: frozenset({"logprobs"}),
    ResponseErrorEvent: frozenset({"code", "param"}),
    ResponseOutputTextAnnotationAddedEvent: frozenset({"annotation"}),
}


@functools.cache
def _validator(schema_name: str) -> jsonschema.Draft202012Validator:
    if schema_name not in SCHEMAS:
        raise AssertionError(f"no SDK type for {schema_name!r} in tests/spec.py")
    return validator(SCHEMAS[schema_name], ALWAYS_PRESENT)


def validate_openai(obj: dict[str, Any], schema_name: str) -> None:
    """Raise AssertionError listing every place where ``obj`` breaks the schema."""
    assert_valid(_validator(schema_name), obj, f"OpenAI {schema_name}")
