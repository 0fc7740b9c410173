"""The ledger as OpenAI's Usage and Costs APIs show it: a page of time buckets, each with
one result per combination of the grouped fields (one ungrouped result, or none when the
bucket saw no request). Buckets start at ``start_time`` and are ``bucket_width`` wide; a
page holds ``limit`` of them and ``next_page`` is where the next page starts."""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from switchyard.core.errors import invalid
from switchyard.gateway.prices import nano_to_usd
from switchyard.store.ledger import BucketRow, LedgerFilter, RequestLog

WIDTHS = {"1m": 60, "1h": 3600, "1d": 86400}


@dataclass(frozen=True, slots=True)
class Report:
    """One kind of report: which ledger rows, how it may be grouped, what a result is."""

    kind: str | None  # the ledger's kind, or None for every kind (costs)
    group_fields: tuple[str, ...]  # what group_by may name
    null_fields: tuple[str, ...]  # the result's group fields, null unless grouped
    result: Callable[[BucketRow], dict[str, Any]]
    widths: tuple[str, ...] = ("1m", "1h", "1d")
    limits: dict[str, tuple[int, int]] = field(default_factory=lambda: {  # default, max
        "1m": (60, 1440), "1h": (24, 168), "1d": (7, 31)})


def _completions(row: BucketRow) -> dict[str, Any]:
    uncached = row.input_tokens - row.cached_input_tokens - row.cache_write_tokens
    return {
        "object": "organization.usage.completions.result",
        "input_tokens": row.input_tokens,
        "input_cached_tokens": row.cached_input_tokens,
        "input_cache_write_tokens": row.cache_write_tokens,
        "input_uncached_tokens": uncached,
        "output_tokens": row.output_tokens,
        "input_text_tokens": uncached,
        "output_text_tokens": row.output_tokens,
        "input_cached_text_tokens": row.cached_input_tokens,
        "input_audio_tokens": 0,
        "input_cached_audio_tokens": 0,
        "output_audio_tokens": 0,
        "input_image_tokens": 0,
        "input_cached_image_tokens": 0,
        "output_image_tokens": 0,
        "num_model_requests": row.model_requests,
    }


def _embeddings(row: BucketRow) -> dict[str, Any]:
    return {"object": "organization.usage.embeddings.result", "input_tokens": row.input_tokens,
            "num_model_requests": row.model_requests}


def _audio_speeches(row: BucketRow) -> dict[str, Any]:
    return {"object": "organization.usage.audio_speeches.result", "characters": row.characters,
            "num_model_requests": row.model_requests}


def _audio_transcriptions(row: BucketRow) -> dict[str, Any]:
    return {"object": "organization.usage.audio_transcriptions.result", "seconds": round(row.audio_ms / 1000),
            "num_model_requests": row.model_requests}


def _costs(row: BucketRow) -> dict[str, Any]:
    return {"object": "organization.costs.result",
            "amount": {"value": float(nano_to_usd(row.cost_nanousd)), "currency": "usd"},
            "quantity": None, "quantity_unit": None}


REPORTS = {
    "completions": Report("completions", ("project_id", "user_id", "api_key_id", "model", "batch", "service_tier"),
                          ("project_id", "user_id", "api_key_id", "model", "batch", "service_tier"), _completions),
    "embeddings": Report("embeddings", ("project_id", "user_id", "api_key_id", "model"),
                         ("project_id", "user_id", "api_key_id", "model"), _embeddings),
    "audio_speeches": Report("speeches", ("project_id", "user_id", "api_key_id", "model"),
                             ("project_id", "user_id", "api_key_id", "model"), _audio_speeches),
    "audio_transcriptions": Report("transcriptions", ("project_id", "user_id", "api_key_id", "model"),
                                   ("project_id", "user_id", "api_key_id", "model"), _audio_transcriptions),
    "costs": Report(None, ("project_id", "line_item", "api_key_id"), ("line_item", "project_id", "api_key_id"),
                    _costs, widths=("1d",), limits={"1d": (7, 180)}),
}
UNGROUPABLE = {"user_id": None, "batch": False, "service_tier": "default"}  # the one value each has here


@dataclass(frozen=True, slots=True)
class UsageQuery:
    start_time: int
    end_time: int
    bucket_width: str = "1d"
    limit: int | None = None
    page: str | None = None
    group_by: tuple[str, ...] = ()
    project_ids: tuple[str, ...] = ()
    api_key_ids: tuple[str, ...] = ()
    models: tuple[str, ...] = ()


def _cursor(start: int) -> str:
    return "page_" + base64.urlsafe_b64encode(str(start).encode()).decode()


def _from_cursor(page: str) -> int:
    try:
        return int(base64.urlsafe_b64decode(page.removeprefix("page_").encode()).decode())
    except (ValueError, UnicodeDecodeError) as exc:
        raise invalid(f"Invalid 'page' cursor: '{page}'.", "page") from exc


def _checked(report: Report, q: UsageQuery) -> tuple[int, int, int]:
    """The bucket width, the page's first bucket start, and the number of buckets."""
    if q.bucket_width not in report.widths:
        allowed = ", ".join(f"'{w}'" for w in report.widths)
        raise invalid(f"Invalid 'bucket_width': '{q.bucket_width}'. Supported values are: {allowed}.",
                      "bucket_width")
    for name in q.group_by:
        if name not in report.group_fields:
            raise invalid(f"Invalid 'group_by' value: '{name}'. Supported values are: "
                          f"{', '.join(report.group_fields)}.", "group_by")
    if q.end_time <= q.start_time:
        raise invalid("'end_time' must be after 'start_time'.", "end_time")
    default, most = report.limits[q.bucket_width]
    limit = default if q.limit is None else q.limit
    if not 1 <= limit <= most:
        raise invalid(f"'limit' must be between 1 and {most} for bucket_width '{q.bucket_width}'.", "limit")
    width = WIDTHS[q.bucket_width]
    first = q.start_time if q.page is None else _from_cursor(q.page)
    if first < q.start_time or (first - q.start_time) % width:
        raise invalid(f"Invalid 'page' cursor: '{q.page}'.", "page")
    return width, first, limit


async def usage_page(ledger: RequestLog, name: str, q: UsageQuery) -> dict[str, Any]:
    report = REPORTS[name]
    width, first, limit = _checked(report, q)
    last = min(q.end_time, first + width * limit)  # exclusive end of this page
    grouped = tuple(g for g in q.group_by if g not in UNGROUPABLE)
    where = LedgerFilter(kind=report.kind, project_ids=q.project_ids, api_key_ids=q.api_key_ids,
                         models=q.models, since=first, until=last)
    rows = await ledger.buckets(where, start=first, width=width, group_by=grouped)
    results: dict[int, list[dict[str, Any]]] = {}
    for row in rows:
        result = report.result(row)
        for name_ in report.null_fields:
            result[name_] = row.group.get(name_) if name_ in grouped else None
        for name_ in q.group_by:
            if name_ in UNGROUPABLE:
                result[name_] = UNGROUPABLE[name_]
        results.setdefault(row.bucket, []).append(result)
    data = []
    start = first
    index = 0
    while start < last:
        end = min(start + width, q.end_time)
        data.append({"object": "bucket", "start_time": start, "end_time": end, "results": results.get(index, [])})
        start += width
        index += 1
    has_more = last < q.end_time
    return {"object": "page", "data": data, "has_more": has_more, "next_page": _cursor(last) if has_more else None}
