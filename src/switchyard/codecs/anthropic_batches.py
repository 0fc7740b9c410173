"""Anthropic's Message Batches on the wire: the create call (every request's ``params``
checked as ``POST /v1/messages`` would check them), the ``MessageBatch`` object and the
lines of its results."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from switchyard.codecs.anthropic_messages import decode_request
from switchyard.core.errors import SwitchyardError, invalid

CUSTOM_ID = re.compile(r"[a-zA-Z0-9_-]{1,64}")
WINDOW_SECONDS = 24 * 3600
MAX_REQUESTS = 100_000

Lines = list[tuple[str, dict[str, Any]]]


def decode_create(raw: Any, max_requests: int) -> Lines:
    """(custom id, params) of each request; a bad one is a 400 naming ``requests.N.…``."""
    if not isinstance(raw, dict):
        raise invalid("The body must be a JSON object.", None)
    extra = set(raw) - {"requests"}
    if extra:
        name = sorted(extra)[0]
        raise invalid(f"{name}: Extra inputs are not permitted", name)
    requests = raw.get("requests")
    if not isinstance(requests, list):
        raise invalid("requests: Field required (a list of {custom_id, params})", "requests")
    if not requests:
        raise invalid("requests: List should have at least 1 item", "requests")
    limit = min(max_requests, MAX_REQUESTS)
    if len(requests) > limit:
        raise invalid(f"requests: List should have at most {limit} items", "requests")
    lines: Lines = []
    seen: set[str] = set()
    for n, request in enumerate(requests):
        lines.append(_request(request, f"requests.{n}", seen))
    return lines


def _request(request: Any, path: str, seen: set[str]) -> tuple[str, dict[str, Any]]:
    if not isinstance(request, dict):
        raise invalid(f"{path}: Input should be an object", path)
    extra = set(request) - {"custom_id", "params"}
    if extra:
        name = sorted(extra)[0]
        raise invalid(f"{path}.{name}: Extra inputs are not permitted", f"{path}.{name}")
    custom_id = request.get("custom_id")
    if not isinstance(custom_id, str) or not CUSTOM_ID.fullmatch(custom_id):
        raise invalid(f"{path}.custom_id: String should match pattern '^[a-zA-Z0-9_-]{{1,64}}$'",
                      f"{path}.custom_id")
    if custom_id in seen:
        raise invalid(f"{path}.custom_id: custom_id '{custom_id}' is used by more than one request; "
                      "each must be unique", f"{path}.custom_id")
    seen.add(custom_id)
    params = request.get("params")
    if not isinstance(params, dict):
        raise invalid(f"{path}.params: Field required (the Messages API parameters)", f"{path}.params")
    if params.get("stream") is True:
        raise invalid(f"{path}.params.stream: batch requests cannot stream", f"{path}.params.stream")
    try:
        decode_request(params)
    except SwitchyardError as error:
        error.message = f"{path}.params.{error.message}"
        error.param = f"{path}.params" + (f".{error.param}" if error.param else "")
        raise
    return custom_id, params


def _time(unix: int | None) -> str | None:
    if unix is None:
        return None
    return datetime.fromtimestamp(unix, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


PROCESSING_STATUS = {"validating": "in_progress", "in_progress": "in_progress", "finalizing": "in_progress",
                     "cancelling": "canceling"}


def batch_body(batch: Any, results_url: str) -> dict[str, Any]:
    """``anthropic.types.messages.MessageBatch`` for a stored batch. As the API reference
    says, requests count as ``processing`` until the whole batch has ended."""
    ended = batch.ended
    counts = {"processing": 0 if ended else batch.total, "succeeded": batch.succeeded if ended else 0,
              "errored": batch.errored if ended else 0, "canceled": batch.canceled if ended else 0,
              "expired": batch.expired if ended else 0}
    return {
        "id": batch.id, "type": "message_batch",
        "processing_status": "ended" if ended else PROCESSING_STATUS[batch.status],
        "request_counts": counts, "ended_at": _time(batch.ended_at), "created_at": _time(batch.created_at),
        "expires_at": _time(batch.expires_at), "archived_at": None,
        "cancel_initiated_at": _time(batch.cancelling_at), "results_url": results_url if ended else None,
    }


def result_line(custom_id: str, state: str, result: dict[str, Any]) -> dict[str, Any]:
    """One line of the results file (``MessageBatchIndividualResponse``)."""
    if state == "succeeded":
        outcome: dict[str, Any] = {"type": "succeeded", "message": result["body"]}
    elif state == "errored":
        outcome = {"type": "errored", "error": result["body"]}
    else:
        outcome = {"type": state}
    return {"custom_id": custom_id, "result": outcome}
