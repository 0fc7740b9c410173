"""Load generator: a minimal HTTP/1.1 keep-alive client on raw asyncio streams
(uvloop), so the client spends as little of the shared CPU as possible.

Modes (one JSON object on stdout):
  chat    closed loop: ``--concurrency`` connections, each sending requests back to
          back for ``--duration`` seconds (and at most ``--max-requests`` in all);
          per-request latency; with ``--stream`` also time to first token (first
          SSE event with non-empty ``content``) and content chunks received.
  rate    open loop at a fixed load: ``--rate`` requests a second on schedule, over at most
          ``--concurrency`` keep-alive connections, for ``--duration`` seconds; latency is
          counted from each request's scheduled time, so a stall is not hidden by the
          requests it delayed (no coordinated omission).
  hold    open ``--concurrency`` slow streams at once, wait until each has its first
          event, hold them ``--hold`` seconds, then close them all.  The parent
          samples the gateway's RSS while the client sleeps between phases; this
          process writes ``READY`` / ``CLOSED`` to stderr so the parent can tell.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import re
import resource
import sys
import time

CONTENT = re.compile(rb'"content":\s*"[^"]')
END_CHUNKED = b"\r\n0\r\n\r\n"


class HttpError(Exception):
    pass


def build_request(host: str, port: int, path: str, key: str, body: dict,
                  headers: list[str] | None = None) -> bytes:
    """``headers``: extra ``name: value`` lines (Portkey takes its routing in headers)."""
    payload = json.dumps(body).encode()
    extra = "".join(f"{h.strip()}\r\n" for h in headers or [])
    return (
        f"POST {path} HTTP/1.1\r\nhost: {host}:{port}\r\n"
        f"authorization: Bearer {key}\r\ncontent-type: application/json\r\n{extra}"
        f"accept: */*\r\ncontent-length: {len(payload)}\r\n\r\n"
    ).encode() + payload


async def read_head(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    return status, head.lower()


def content_length(head: bytes) -> int | None:
    at = head.find(b"content-length:")
    if at < 0:
        return None
    return int(head[at + 15 : head.find(b"\r\n", at)])


async def read_body(reader: asyncio.StreamReader, head: bytes, t0: float) -> tuple[bytes, float]:
    """The whole body, and the time the first content token arrived (0 if none)."""
    length = content_length(head)
    if length is not None:
        body = await reader.readexactly(length)
        return body, time.perf_counter() if CONTENT.search(body) else 0.0
    if b"transfer-encoding: chunked" not in head:
        raise HttpError("neither content-length nor chunked")
    buf = bytearray()
    first = 0.0
    while not buf.endswith(END_CHUNKED):
        piece = await reader.read(65536)
        if not piece:
            raise HttpError("connection closed mid-body")
        buf += piece
        if not first and CONTENT.search(buf):
            first = time.perf_counter()
    return bytes(buf), first


async def chat_worker(args, request: bytes, deadline: float, out: dict) -> None:
    reader, writer = await asyncio.open_connection(args.host, args.port)
    lat, ttft, chunks = out["lat"], out["ttft"], out["chunks"]
    try:
        while time.perf_counter() < deadline and out["budget"] > 0:
            out["budget"] -= 1
            t0 = time.perf_counter()
            writer.write(request)
            status, head = await read_head(reader)
            body, first = await read_body(reader, head, t0)
            t1 = time.perf_counter()
            if status != 200:
                out["errors"] += 1
                if out["errors"] <= 3:
                    print(f"HTTP {status}: {body[:300]!r}", file=sys.stderr)
                if b"connection: close" in head:
                    return
                continue
            lat.append(t1 - t0)
            if args.stream:
                if not first:
                    out["errors"] += 1
                    continue
                ttft.append(first - t0)
                chunks.append(len(CONTENT.findall(body)))
    except (OSError, asyncio.IncompleteReadError, HttpError) as exc:
        out["errors"] += 1
        print(f"connection error: {exc!r}", file=sys.stderr)
    finally:
        writer.close()


def pct(values: list[float], p: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def summary(values: list[float]) -> dict:
    ms = [v * 1000 for v in values]
    return {"p50_ms": pct(ms, 50), "p90_ms": pct(ms, 90), "p99_ms": pct(ms, 99),
            "max_ms": max(ms) if ms else None}


async def run_chat(args) -> dict:
    body = {"model": args.model, "messages": [{"role": "user", "content": "Say hello."}]}
    if args.stream:
        body["stream"] = True
    request = build_request(args.host, args.port, args.path, args.key, body, args.header)
    warm = {"lat": [], "ttft": [], "chunks": [], "errors": 0, "budget": 10**9}
    if args.warmup > 0:
        end = time.perf_counter() + args.warmup
        await asyncio.gather(*(chat_worker(args, request, end, warm)
                               for _ in range(args.concurrency)))
    out = {"lat": [], "ttft": [], "chunks": [], "errors": 0, "budget": args.max_requests}
    start = time.perf_counter()
    deadline = start + args.duration
    await asyncio.wait_for(
        asyncio.gather(*(chat_worker(args, request, deadline, out)
                         for _ in range(args.concurrency))),
        timeout=args.duration + 60,
    )
    elapsed = time.perf_counter() - start
    result = {
        "requests": len(out["lat"]), "errors": out["errors"], "elapsed_s": elapsed,
        "rps": len(out["lat"]) / elapsed, "latency": summary(out["lat"]),
        "warmup_requests": len(warm["lat"]) + warm["errors"],
    }
    if args.stream:
        total = sum(out["chunks"])
        result["ttft"] = summary(out["ttft"])
        result["chunks_per_stream"] = total / len(out["chunks"]) if out["chunks"] else 0
        result["chunks_per_s"] = total / elapsed
    return result


async def rate_one(args, request: bytes, scheduled: float, conn: tuple, pool: asyncio.Queue,
                   out: dict) -> None:
    """One request on a pooled connection. A connection the server closed while it sat idle
    (servers drop idle keep-alive connections after ~5 s) is replaced and the request sent
    again once, as HTTP clients do; the time that takes counts in its latency."""
    for attempt in (1, 2):
        reader, writer = conn
        try:
            writer.write(request)
            status, head = await read_head(reader)
            body, _first = await read_body(reader, head, scheduled)
        except (OSError, asyncio.IncompleteReadError, HttpError) as exc:
            writer.close()
            conn = await asyncio.open_connection(args.host, args.port)
            if attempt == 2:
                out["errors"] += 1
                print(f"connection error: {exc!r}", file=sys.stderr)
            continue
        if status == 200:
            out["lat"].append(time.perf_counter() - scheduled)
        else:
            out["errors"] += 1
            if out["errors"] <= 3:
                print(f"HTTP {status}: {body[:300]!r}", file=sys.stderr)
        break
    pool.put_nowait(conn)


async def paced(args, request: bytes, pool: asyncio.Queue, seconds: float, out: dict) -> float:
    """Sends ``args.rate`` requests a second for ``seconds``; returns the time it took."""
    start = time.perf_counter()
    tasks = set()
    i = 0
    while True:
        scheduled = start + i / args.rate
        if scheduled >= start + seconds:
            break
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        conn = await pool.get()  # all busy: this send is late, and its latency says so
        task = asyncio.ensure_future(rate_one(args, request, scheduled, conn, pool, out))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
        i += 1
    if tasks:
        await asyncio.wait_for(asyncio.gather(*tasks), timeout=60)
    return time.perf_counter() - start


async def run_rate(args) -> dict:
    body = {"model": args.model, "messages": [{"role": "user", "content": "Say hello."}]}
    if args.stream:
        body["stream"] = True
    request = build_request(args.host, args.port, args.path, args.key, body, args.header)
    pool: asyncio.Queue = asyncio.LifoQueue()  # the most recently used connection first
    for _ in range(args.concurrency):
        pool.put_nowait(await asyncio.open_connection(args.host, args.port))
    warm: dict = {"lat": [], "errors": 0}
    if args.warmup > 0:
        await paced(args, request, pool, args.warmup, warm)
    out: dict = {"lat": [], "errors": 0}
    elapsed = await paced(args, request, pool, args.duration, out)
    while not pool.empty():
        pool.get_nowait()[1].close()
    return {"requests": len(out["lat"]), "errors": out["errors"], "elapsed_s": elapsed,
            "rps": len(out["lat"]) / elapsed, "offered_rps": args.rate,
            "latency": summary(out["lat"]), "warmup_requests": len(warm["lat"]) + warm["errors"]}


async def hold_one(args, request: bytes, opened: list, ready: asyncio.Event) -> None:
    try:
        reader, writer = await asyncio.open_connection(args.host, args.port)
    except OSError as exc:
        opened.append(("connect", repr(exc)))
        return
    try:
        writer.write(request)
        status, _head = await read_head(reader)
        if status != 200:
            opened.append(("status", status))
            return
        buf = bytearray()
        while b"data:" not in buf:
            piece = await reader.read(65536)
            if not piece:
                opened.append(("closed", None))
                return
            buf += piece
        opened.append(("ok", None))
        while not ready.is_set():  # keep draining so the gateway is not blocked writing
            try:
                piece = await asyncio.wait_for(reader.read(65536), timeout=0.5)
            except TimeoutError:
                continue
            if not piece:
                return
    except (OSError, asyncio.IncompleteReadError) as exc:
        opened.append(("error", repr(exc)))
    finally:
        writer.close()


async def run_hold(args) -> dict:
    body = {"model": args.model, "stream": True,
            "messages": [{"role": "user", "content": "Say hello slowly."}]}
    request = build_request(args.host, args.port, args.path, args.key, body, args.header)
    opened: list = []
    done = asyncio.Event()
    start = time.perf_counter()
    tasks = []
    for _ in range(args.concurrency):
        tasks.append(asyncio.ensure_future(hold_one(args, request, opened, done)))
        await asyncio.sleep(0)
    limit = start + args.open_timeout
    while len(opened) < args.concurrency and time.perf_counter() < limit:
        await asyncio.sleep(0.05)
    open_time = time.perf_counter() - start
    ok = sum(1 for kind, _ in opened if kind == "ok")
    print("READY", file=sys.stderr, flush=True)
    await asyncio.sleep(args.hold)
    done.set()
    with contextlib.suppress(TimeoutError):  # streams still opening (a slow gateway)
        await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), timeout=30)
    print("CLOSED", file=sys.stderr, flush=True)
    failures: dict = {}
    for kind, detail in opened:
        if kind != "ok":
            failures[f"{kind}:{detail}"] = failures.get(f"{kind}:{detail}", 0) + 1
    return {"requested": args.concurrency, "opened": ok, "open_time_s": open_time,
            "failures": failures}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["chat", "rate", "hold"])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--path", default="/v1/chat/completions")
    parser.add_argument("--key", default="x")
    parser.add_argument("--model", default="bench-model")
    parser.add_argument("--header", action="append", default=[], help="extra 'name: value'")
    parser.add_argument("--stream", action="store_true")
    parser.add_argument("--rate", type=float, default=50.0, help="rate mode: requests a second")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--warmup", type=float, default=1.0)
    parser.add_argument("--max-requests", type=int, default=1_000_000)
    parser.add_argument("--hold", type=float, default=5.0)
    parser.add_argument("--open-timeout", type=float, default=60.0)
    args = parser.parse_args()
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    runner = {"chat": run_chat, "rate": run_rate, "hold": run_hold}[args.mode]
    print(json.dumps(asyncio.run(runner(args))))


if __name__ == "__main__":
    main()
