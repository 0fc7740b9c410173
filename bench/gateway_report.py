"""The gateway benchmark's table and ratios: medians over rounds, latency added over going
straight to the upstream, Switchyard against each peer measured in the same run."""

from __future__ import annotations

import statistics

SWITCHYARDS = ("switchyard", "sy+redis")
PEERS = ("litellm", "portkey")


def median_of(rounds: list[dict], *keys: str) -> float | None:
    values = []
    for r in rounds:
        v = r
        for k in keys:
            v = v.get(k) if isinstance(v, dict) else None
        if isinstance(v, int | float):
            values.append(v)
    return statistics.median(values) if values else None


def fmt(v: float | None, digits: int = 2) -> str:
    return "-" if v is None else f"{v:,.{digits}f}"


def rows(rate: float) -> list[tuple[str, str, tuple[str, ...], int]]:
    fixed = f"fixed {rate:g} req/s"
    return [
        ("non-stream c=32 req/s (1 core)", "chat32", ("rps",), 0),
        ("non-stream c=32 p50 ms", "chat32", ("latency", "p50_ms"), 2),
        ("non-stream c=32 p99 ms", "chat32", ("latency", "p99_ms"), 2),
        ("non-stream c=32 CPU ms/req", "chat32", ("cpu_ms_per_request",), 3),
        ("non-stream c=1 p50 ms", "chat1", ("latency", "p50_ms"), 3),
        ("non-stream c=1 p99 ms", "chat1", ("latency", "p99_ms"), 3),
        (f"{fixed} served req/s", "rate", ("rps",), 1),
        (f"{fixed} p50 ms", "rate", ("latency", "p50_ms"), 3),
        (f"{fixed} p99 ms", "rate", ("latency", "p99_ms"), 3),
        (f"{fixed} CPU ms/req", "rate", ("cpu_ms_per_request",), 3),
        ("stream c=32 streams/s", "stream32", ("rps",), 0),
        ("stream c=32 TTFT p50 ms", "stream32", ("ttft", "p50_ms"), 2),
        ("stream c=32 TTFT p99 ms", "stream32", ("ttft", "p99_ms"), 2),
        ("stream c=32 chunks/stream", "stream32", ("chunks_per_stream",), 1),
        ("stream c=32 CPU ms/stream", "stream32", ("cpu_ms_per_request",), 3),
        ("stream c=1 TTFT p50 ms", "stream1", ("ttft", "p50_ms"), 3),
        ("stream c=1 TTFT p99 ms", "stream1", ("ttft", "p99_ms"), 3),
        ("errors (all rounds)", "*", ("errors",), 0),
    ]


def table(targets: list, rate: float) -> tuple[str, dict]:
    summary: dict = {t.name: {} for t in targets}
    width, col = 34, 12
    lines = ["metric".ljust(width) + "".join(t.name.rjust(col) for t in targets)]

    def add(label: str, values: list[float | None], digits: int) -> None:
        lines.append(label.ljust(width) + "".join(fmt(v, digits).rjust(col) for v in values))

    for label, scenario, keys, digits in rows(rate):
        values = []
        for t in targets:
            if scenario == "*":
                v = float(sum(r.get("errors", 0) for rs in t.results.values() if isinstance(rs, list)
                              for r in rs))
            else:
                v = median_of(t.results.get(scenario, []), *keys)
            summary[t.name][label] = v
            values.append(v)
        add(label, values, digits)
    cpu_label = "non-stream c=32 CPU ms/req"
    add("non-stream req per CPU-second", [
        1000 / s[cpu_label] if s.get(cpu_label) else None for s in summary.values()], 0)
    direct = summary.get("direct", {})
    for key in ("non-stream c=1 p50 ms", "non-stream c=1 p99 ms", f"fixed {rate:g} req/s p50 ms",
                f"fixed {rate:g} req/s p99 ms", "stream c=1 TTFT p50 ms"):
        values = []
        for t in targets:
            v, d = summary[t.name].get(key), direct.get(key)
            added = None if t.name == "direct" or v is None or d is None else v - d
            summary[t.name][f"added {key}"] = added
            values.append(added)
        add(f"added {key}", values, 3)
    soak_rows = [("soak requests", "requests", 0), ("soak req/s", "rps", 0),
                 ("RSS before soak MiB", "rss_start_mib", 1),
                 ("RSS after soak MiB", "rss_end_mib", 1),
                 ("RSS growth, 2nd half of soak MiB", "rss_growth_second_half_mib", 1),
                 ("RSS max during run MiB", "rss_max_run_mib", 1)]
    for label, key, digits in soak_rows:
        values = [(t.results.get("soak") or {}).get(key) for t in targets]
        for t, v in zip(targets, values, strict=True):
            summary[t.name][label] = v
        add(label, values, digits)
    hold_rows = [("streams open (of N)", "opened", 0), ("RSS with N streams MiB", "rss_peak_mib", 1),
                 ("RSS KiB per open stream", "rss_per_stream_kib", 1),
                 ("time to open N s", "open_time_s", 2)]
    for label, key, digits in hold_rows:
        values = [(t.results.get("hold") or {}).get(key) for t in targets]
        for t, v in zip(targets, values, strict=True):
            summary[t.name][label] = v
        add(label, values, digits)
    return "\n".join(lines), summary


def ratios(summary: dict, rate: float) -> dict:
    out: dict = {}

    def ratio(a: str, b: str, label: str) -> float | None:
        x, y = summary[a].get(label), summary[b].get(label)
        return round(x / y, 2) if x and y else None

    for sy in (s for s in SWITCHYARDS if s in summary):
        for peer in (p for p in PEERS if p in summary):
            tag = f"{sy}/{peer}"
            out[f"throughput non-stream c=32 ({tag})"] = ratio(sy, peer, "non-stream c=32 req/s (1 core)")
            out[f"CPU per request non-stream c=32 ({tag})"] = ratio(sy, peer, "non-stream c=32 CPU ms/req")
            out[f"throughput stream c=32 ({tag})"] = ratio(sy, peer, "stream c=32 streams/s")
            out[f"p99 at fixed {rate:g} req/s ({tag})"] = ratio(sy, peer, f"fixed {rate:g} req/s p99 ms")
        added = summary[sy].get(f"added fixed {rate:g} req/s p50 ms")
        added1 = summary[sy].get("added non-stream c=1 p50 ms")
        tp = out.get(f"throughput non-stream c=32 ({sy}/litellm)")
        pk = out.get(f"throughput non-stream c=32 ({sy}/portkey)")
        out[f"target: >=10x LiteLLM throughput ({sy})"] = None if tp is None else tp >= 10
        out[f"target: p50 added <= 0.5 ms at fixed load ({sy})"] = None if added is None else added <= 0.5
        out[f"target: p50 added <= 0.5 ms at c=1 ({sy})"] = None if added1 is None else added1 <= 0.5
        out[f"target: ahead of Portkey ({sy})"] = None if pk is None else pk > 1
    return out


def per_round(targets: list) -> dict:
    """Throughput ratios round by round, to show how much margin the medians have."""
    by = {t.name: t.results for t in targets}
    out: dict = {}
    for sy in (s for s in SWITCHYARDS if s in by):
        for peer in (p for p in PEERS if p in by):
            pairs = zip(by[sy].get("chat32", []), by[peer].get("chat32", []), strict=False)
            out[f"per round: throughput c=32 ({sy}/{peer})"] = [
                round(a["rps"] / b["rps"], 2) for a, b in pairs if b["rps"]]
        if "direct" in by:
            out[f"per round: added c=1 p50 ms ({sy})"] = [
                round(a["latency"]["p50_ms"] - d["latency"]["p50_ms"], 3)
                for a, d in zip(by[sy].get("chat1", []), by["direct"].get("chat1", []), strict=False)
                if a["latency"]["p50_ms"] is not None]
    return out
