"""OpenAI's Batch API on the wire: the create call, the input file's request lines, the
``Batch`` object and the output and error files' lines."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import orjson

from switchyard.codecs.metadata import decode_metadata
from switchyard.codecs.openai_chat.fields import obj, req_str
from switchyard.core.errors import invalid

ENDPOINTS = ("/v1/chat/completions", "/v1/completions", "/v1/embeddings", "/v1/responses", "/v1/moderations")
MODEL_OPTIONAL = ("/v1/moderations",)  # the endpoint has a default model
WINDOWS = {"24h": 24 * 3600}
MIN_EXPIRY, MAX_EXPIRY = 3600, 2_592_000
MAX_CUSTOM_ID = 512


@dataclass(frozen=True, slots=True)
class BatchCreate:
    input_file_id: str
    endpoint: str
    completion_window: str
    metadata: dict[str, str] | None
    output_expires_after: int | None  # seconds after their creation that the output files expire

    @property
    def window_seconds(self) -> int:
        return WINDOWS[self.completion_window]

    def stored(self) -> dict[str, Any]:
        return {"input_file_id": self.input_file_id, "completion_window": self.completion_window,
                "metadata": self.metadata, "output_expires_after": self.output_expires_after}


def decode_create(raw: Any) -> BatchCreate:
    body = obj(raw, "body")
    input_file_id = req_str(body, "input_file_id")
    endpoint = req_str(body, "endpoint")
    if endpoint not in ENDPOINTS:
        raise invalid(f"'endpoint' must be one of {', '.join(ENDPOINTS)}; got {endpoint!r}.", "endpoint",
                      "invalid_value")
    window = req_str(body, "completion_window")
    if window not in WINDOWS:
        raise invalid(f"'completion_window' must be one of {', '.join(WINDOWS)}; got {window!r}.",
                      "completion_window", "invalid_value")
    metadata = decode_metadata(body.get("metadata"))
    return BatchCreate(input_file_id, endpoint, window, metadata, _expiry(body.get("output_expires_after")))


def _expiry(raw: Any) -> int | None:
    if raw is None:
        return None
    after = obj(raw, "output_expires_after")
    if after.get("anchor") != "created_at":
        raise invalid("'output_expires_after.anchor' must be 'created_at'.", "output_expires_after.anchor")
    seconds = after.get("seconds")
    if not isinstance(seconds, int) or isinstance(seconds, bool) or not MIN_EXPIRY <= seconds <= MAX_EXPIRY:
        raise invalid(f"'output_expires_after.seconds' must be an integer between {MIN_EXPIRY} and {MAX_EXPIRY}.",
                      "output_expires_after.seconds")
    return seconds


# -- the input file ------------------------------------------------------------


class LineErrors:
    """What is wrong with an input file, as ``BatchError`` objects (``line`` is 1-based);
    the first ``limit`` are kept, all are counted."""

    def __init__(self, limit: int = 100) -> None:
        self.data: list[dict[str, Any]] = []
        self.count = 0
        self._limit = limit

    def add(self, code: str, message: str, param: str | None, line: int | None) -> None:
        self.count += 1
        if len(self.data) < self._limit:
            self.data.append({"code": code, "message": message, "param": param, "line": line})


Lines = list[tuple[str, dict[str, Any]]]


def parse_lines(raw_lines: Iterable[bytes], endpoint: str, max_lines: int) -> tuple[Lines, LineErrors]:
    """Each line of a batch input file as (custom id, body); every line is checked, and
    any error fails the whole batch (as OpenAI does) with the line and field named."""
    lines: Lines = []
    errors = LineErrors()
    seen: set[str] = set()
    number = 0
    for number, raw in enumerate(raw_lines, start=1):
        if not raw.strip():
            errors.add("invalid_json_line", "The line is empty; each line must be one JSON request.", None, number)
            continue
        parsed = _line(raw, number, endpoint, errors)
        if parsed is None:
            continue
        if parsed[0] in seen:
            errors.add("duplicate_custom_id", f"The custom_id {parsed[0]!r} is used by an earlier line.",
                       "custom_id", number)
            continue
        seen.add(parsed[0])
        lines.append(parsed)
    if number == 0:
        errors.add("empty_file", "The input file has no requests.", "input_file_id", None)
    elif number > max_lines:
        errors.add("too_many_requests", f"The input file has {number} requests; a batch takes at most {max_lines}.",
                   "input_file_id", None)
    return lines, errors


def _line(raw: bytes, number: int, endpoint: str, errors: LineErrors) -> tuple[str, dict[str, Any]] | None:
    try:
        request = orjson.loads(raw)
    except orjson.JSONDecodeError:
        errors.add("invalid_json_line", "The line is not valid JSON.", None, number)
        return None
    if not isinstance(request, dict):
        errors.add("invalid_json_line", "The line must be a JSON object.", None, number)
        return None
    custom_id = request.get("custom_id")
    if not isinstance(custom_id, str) or not custom_id or len(custom_id) > MAX_CUSTOM_ID or "\x00" in custom_id:
        errors.add("invalid_request", f"'custom_id' must be a non-empty string of at most {MAX_CUSTOM_ID} "
                   "characters.", "custom_id", number)
        return None
    if request.get("method") != "POST":
        errors.add("invalid_request", "'method' must be 'POST'.", "method", number)
        return None
    if request.get("url") != endpoint:
        errors.add("invalid_url", f"'url' must be the batch's endpoint {endpoint!r}; got {request.get('url')!r}.",
                   "url", number)
        return None
    body = request.get("body")
    if not isinstance(body, dict):
        errors.add("invalid_request", "'body' must be a JSON object.", "body", number)
        return None
    if body.get("stream") is True:
        errors.add("invalid_request", "Batch requests cannot stream; leave 'body.stream' out.", "body.stream", number)
        return None
    if not isinstance(body.get("model"), str) and not (endpoint in MODEL_OPTIONAL and body.get("model") is None):
        errors.add("invalid_request", "'body.model' is required.", "body.model", number)
        return None
    extra = set(request) - {"custom_id", "method", "url", "body"}
    if extra:
        field = sorted(extra)[0]
        errors.add("invalid_request", f"Unknown field '{field}' in the request line.", field, number)
        return None
    return custom_id, body


# -- objects out -----------------------------------------------------------------


def batch_body(batch: Any) -> dict[str, Any]:
    """``openai.types.Batch`` for a stored batch (``store.batches.BatchRecord``)."""
    body: dict[str, Any] = {
        "id": batch.id, "object": "batch", "endpoint": batch.endpoint,
        "errors": None if batch.errors is None else {"object": "list", "data": batch.errors},
        "input_file_id": batch.request["input_file_id"], "completion_window": batch.request["completion_window"],
        "status": batch.status, "output_file_id": batch.output_file_id, "error_file_id": batch.error_file_id,
        "created_at": batch.created_at, "in_progress_at": batch.in_progress_at, "expires_at": batch.expires_at,
        "finalizing_at": batch.finalizing_at, "completed_at": batch.completed_at, "failed_at": batch.failed_at,
        "expired_at": batch.expired_at, "cancelling_at": batch.cancelling_at, "cancelled_at": batch.cancelled_at,
        "request_counts": {"total": batch.total, "completed": batch.succeeded, "failed": batch.errored},
        "metadata": batch.request.get("metadata"),
    }
    if batch.model is not None:
        body["model"] = batch.model
    return body


GIVEN_UP = {
    "canceled": ("batch_cancelled", "This request was not run: the batch was cancelled."),
    "expired": ("batch_expired", "This request could not be run before the batch's completion window ended."),
}


def output_line(request_id: str, custom_id: str, state: str, result: dict[str, Any]) -> dict[str, Any]:
    """One line of the output file (a request that answered 2xx) or of the error file (any
    other answer, or a request never run)."""
    if state in GIVEN_UP:
        code, message = GIVEN_UP[state]
        return {"id": request_id, "custom_id": custom_id, "response": None,
                "error": {"code": code, "message": message}}
    return {"id": request_id, "custom_id": custom_id,
            "response": {"status_code": result["status_code"], "request_id": result["request_id"],
                         "body": result["body"]},
            "error": None}
