"""``switchyard usage``: the ledger summed per project, key, model and/or day, read from
the same database the server writes (so it works with the server down, too)."""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import time
from datetime import UTC, datetime
from typing import Any

from switchyard.config import Settings
from switchyard.gateway.prices import format_usd
from switchyard.store.database import Database
from switchyard.store.ledger import LedgerFilter, RequestLog

GROUPS = {"project": "project_id", "key": "api_key_id", "model": "model"}
DAY = 86400
_RELATIVE = re.compile(r"(\d+)([mhd])")
_UNITS = {"m": 60, "h": 3600, "d": DAY}


def add_parser(sub: Any) -> None:
    usage = sub.add_parser("usage", help="usage and cost from the ledger")
    usage.add_argument("--config", help="YAML config file (default: $SWITCHYARD_CONFIG)")
    usage.add_argument("--data-dir", help="data directory (default: $SWITCHYARD_DATA_DIR or ./data)")
    usage.add_argument("--project", action="append", default=[], help="only this project (repeatable)")
    usage.add_argument("--key", action="append", default=[], help="only this API key id (repeatable)")
    usage.add_argument("--model", action="append", default=[], help="only this model (repeatable)")
    usage.add_argument("--since", default="30d",
                       help="start: a date/time (2026-11-01, 2026-11-01T12:00) or an age (90m, 24h, 7d); default 30d")
    usage.add_argument("--until", help="end (exclusive), same forms; default now")
    usage.add_argument("--group-by", default="project,model",
                       help="comma-separated: project, key, model, day (default: project,model)")
    usage.add_argument("--json", action="store_true", help="one JSON object per line")


def parse_time(text: str, now: float) -> int:
    """Unix seconds for an ISO date/time (UTC unless it says otherwise) or an age before now."""
    relative = _RELATIVE.fullmatch(text.strip())
    if relative:
        return int(now) - int(relative.group(1)) * _UNITS[relative.group(2)]
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError as exc:
        raise SystemExit(f"switchyard usage: cannot read the time '{text}'") from exc
    return int((moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp())


def run(settings: Settings, args: argparse.Namespace) -> int:
    groups = [g.strip() for g in args.group_by.split(",") if g.strip()]
    unknown = [g for g in groups if g not in (*GROUPS, "day")]
    if unknown:
        raise SystemExit(f"switchyard usage: cannot group by {', '.join(unknown)} (project, key, model, day)")
    now = time.time()
    since = parse_time(args.since, now)
    if "day" in groups:
        since -= since % DAY  # days are UTC calendar days
    until = parse_time(args.until, now) if args.until else int(now) + 1
    rows = asyncio.run(_summary(settings, args, groups, since, until))
    _print(rows, groups, as_json=args.json)
    return 0


async def _summary(settings: Settings, args: argparse.Namespace, groups: list[str], since: int, until: int
                   ) -> list[dict[str, Any]]:
    database = Database(settings.resolved_database_url)
    await database.start()
    try:
        width = DAY if "day" in groups else max(1, until - since)
        where = LedgerFilter(project_ids=tuple(args.project), api_key_ids=tuple(args.key), models=tuple(args.model),
                             since=since, until=until)
        buckets = await RequestLog(database).buckets(where, start=since, width=width,
                                                     group_by=[GROUPS[g] for g in groups if g in GROUPS])
    finally:
        await database.aclose()
    rows = []
    for bucket in buckets:
        row: dict[str, Any] = {}
        if "day" in groups:
            row["day"] = datetime.fromtimestamp(since + bucket.bucket * width, UTC).date().isoformat()
        for name in groups:
            if name in GROUPS:
                row[name] = bucket.group[GROUPS[name]]
        row.update(requests=bucket.model_requests, input_tokens=bucket.input_tokens,
                   cached_tokens=bucket.cached_input_tokens, output_tokens=bucket.output_tokens,
                   cost_usd=format_usd(bucket.cost_nanousd))
        rows.append(row)
    return rows


def _print(rows: list[dict[str, Any]], groups: list[str], *, as_json: bool) -> None:
    if as_json:
        for row in rows:
            print(json.dumps(row))
        return
    columns = [*(g for g in groups), "requests", "input_tokens", "cached_tokens", "output_tokens", "cost_usd"]
    table = [columns, *([str(row.get(c) if row.get(c) is not None else "-") for c in columns] for row in rows)]
    widths = [max(len(line[i]) for line in table) for i in range(len(columns))]
    for line in table:
        print("  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip())
