"""Figures the overview draws: Usage-API pages reshaped into chart series, and
per-deployment health (error rate, latency percentiles) from recent ledger entries."""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from switchyard.store.ledger import LedgerEntry

RANGES = {"24h": ("1h", 3600, 24), "7d": ("1d", 86400, 7), "30d": ("1d", 86400, 30)}  # width, seconds, buckets
GROUPS = {"model": "model", "project": "project_id", "key": "api_key_id"}


@dataclass(frozen=True, slots=True)
class Window:
    width: str
    seconds: int
    buckets: int
    start: int
    end: int

    @property
    def labels(self) -> list[str]:
        pattern = "%H:00" if self.seconds < 86400 else "%m-%d"
        return [time.strftime(pattern, time.gmtime(self.start + i * self.seconds)) for i in range(self.buckets)]

    def index(self, unix: int) -> int | None:
        position = (unix - self.start) // self.seconds
        return position if 0 <= position < self.buckets else None


def window(name: str, now: float | None = None) -> Window:
    width, seconds, buckets = RANGES.get(name, RANGES["24h"])
    end = (int(now if now is not None else time.time()) // seconds + 1) * seconds
    return Window(width, seconds, buckets, end - seconds * buckets, end)


def grouped_series(page: dict[str, Any], group: str, value: str) -> list[dict[str, Any]]:
    """One dataset per value of ``group`` (a Usage page grouped by it), summing ``value``."""
    series: dict[str, list[float]] = {}
    buckets = page["data"]
    for index, bucket in enumerate(buckets):
        for result in bucket["results"]:
            name = str(result.get(group) or "(none)")
            series.setdefault(name, [0.0] * len(buckets))[index] += _value(result, value)
    return [{"label": name, "data": data} for name, data in sorted(series.items())]


def _value(result: dict[str, Any], value: str) -> float:
    if value == "tokens":
        return float(result["input_tokens"] + result["output_tokens"])
    if value == "cost":
        return float(result["amount"]["value"])
    return float(result[value])


def totals(page: dict[str, Any], value: str) -> float:
    return sum(_value(r, value) for bucket in page["data"] for r in bucket["results"])


def top(page: dict[str, Any], group: str, count: int = 5) -> list[tuple[str, float]]:
    """The ``count`` biggest spenders in a costs page grouped by ``group``."""
    spent: dict[str, float] = defaultdict(float)
    for bucket in page["data"]:
        for result in bucket["results"]:
            if result.get(group):
                spent[str(result[group])] += float(result["amount"]["value"])
    return sorted(spent.items(), key=lambda item: -item[1])[:count]


def errors_series(counts: Sequence[tuple[int, int, int]], win: Window) -> dict[str, Any]:
    """Requests and errors per bucket of ``win`` from (bucket, requests, errors) counts."""
    requests, errors = [0] * win.buckets, [0] * win.buckets
    for bucket, total, failed in counts:
        if 0 <= bucket < win.buckets:
            requests[bucket], errors[bucket] = total, failed
    return {"labels": win.labels, "requests": requests, "errors": errors}


def percentile(values: Sequence[int], share: float) -> int | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


@dataclass(frozen=True, slots=True)
class Health:
    deployment: str
    requests: int
    errors: int
    p50: int | None
    p95: int | None
    p99: int | None

    @property
    def error_rate(self) -> float:
        return self.errors / self.requests if self.requests else 0.0


def deployment_health(entries: Sequence[LedgerEntry]) -> dict[str, Health]:
    latencies: dict[str, list[int]] = defaultdict(list)
    errors: dict[str, int] = defaultdict(int)
    for entry in entries:
        name = entry.deployment or entry.model
        latencies[name].append(entry.latency_ms)
        errors[name] += (entry.status or 0) >= 400
    return {name: Health(name, len(values), errors[name], percentile(values, .5), percentile(values, .95),
                         percentile(values, .99)) for name, values in latencies.items()}
