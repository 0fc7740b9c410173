"""A fake OpenAI Chat Completions upstream for benchmarks: a raw asyncio
protocol on uvloop (no framework), HTTP/1.1 keep-alive, loopback only.

POST .../chat/completions
  non-streaming: one precomputed ``chat.completion`` JSON body.
  ``"stream": true``: ``--chunks`` ``chat.completion.chunk`` events (content deltas,
  then one with ``finish_reason``, then a usage chunk) and ``data: [DONE]``,
  sent chunked with no delay.
  If the request's ``model`` contains ``slow``: the same stream, but one content
  chunk every ``--slow-interval`` seconds for ``--slow-chunks`` chunks (used to hold
  many streams open for the memory measurement).
GET /health -> 200.

Run: python bench/fake_upstream.py --port 18001
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time

CREATED = int(time.time())
USAGE = {"prompt_tokens": 12, "completion_tokens": 16, "total_tokens": 28}


def _completion_body() -> bytes:
    return json.dumps(
        {
            "id": "chatcmpl-bench",
            "object": "chat.completion",
            "created": CREATED,
            "model": "upstream",
            "system_fingerprint": "fp_bench",
            "choices": [
                {
                    "index": 0,
                    "message": {
                        "role": "assistant",
                        "content": "Hello! This is the fake upstream answering.",
                        "refusal": None,
                    },
                    "logprobs": None,
                    "finish_reason": "stop",
                }
            ],
            "usage": USAGE,
        },
        separators=(",", ":"),
    ).encode()


def _chunk(delta: dict, finish: str | None, usage: dict | None = None, choices: bool = True) -> bytes:
    obj = {
        "id": "chatcmpl-bench",
        "object": "chat.completion.chunk",
        "created": CREATED,
        "model": "upstream",
        "system_fingerprint": "fp_bench",
        "choices": (
            [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}]
            if choices
            else []
        ),
    }
    if usage is not None:
        obj["usage"] = usage
    return b"data: " + json.dumps(obj, separators=(",", ":")).encode() + b"\n\n"


def _http_chunk(payload: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(payload), payload)


FIRST = _http_chunk(_chunk({"role": "assistant", "content": ""}, None))
TOKEN = _http_chunk(_chunk({"content": "tok "}, None))
LAST = _http_chunk(
    _chunk({}, "stop") + _chunk({}, None, usage=USAGE, choices=False) + b"data: [DONE]\n\n"
) + b"0\r\n\r\n"

BODY = _completion_body()
JSON_RESPONSE = (
    b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: %d\r\n\r\n%s"
    % (len(BODY), BODY)
)
SSE_HEAD = (
    b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n"
    b"cache-control: no-cache\r\ntransfer-encoding: chunked\r\n\r\n"
)
OK_RESPONSE = b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 2\r\n\r\nok"
NOT_FOUND = b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n"


class Upstream(asyncio.Protocol):
    chunks = 20
    slow_chunks = 60
    slow_interval = 1.0

    def __init__(self) -> None:
        self.buf = b""
        self.transport: asyncio.Transport | None = None
        self.slow_task: asyncio.Task | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def connection_lost(self, exc: Exception | None) -> None:
        if self.slow_task is not None:
            self.slow_task.cancel()
        self.transport = None

    def data_received(self, data: bytes) -> None:
        self.buf += data
        while True:
            end = self.buf.find(b"\r\n\r\n")
            if end < 0:
                return
            head = self.buf[:end]
            length = 0
            lower = head.lower()
            at = lower.find(b"content-length:")
            if at >= 0:
                stop = lower.find(b"\r\n", at)
                length = int(lower[at + 15 : stop if stop > 0 else None])
            if len(self.buf) < end + 4 + length:
                return
            body = self.buf[end + 4 : end + 4 + length]
            self.buf = self.buf[end + 4 + length :]
            self.respond(head, body)

    def respond(self, head: bytes, body: bytes) -> None:
        t = self.transport
        if t is None:
            return
        line = head[: head.find(b"\r\n")]
        if line.startswith(b"GET"):
            t.write(OK_RESPONSE if b"/health" in line else NOT_FOUND)
            return
        if b"/chat/completions" not in line:
            t.write(NOT_FOUND)
            return
        request = json.loads(body) if body else {}
        if not request.get("stream"):
            t.write(JSON_RESPONSE)
        elif "slow" in str(request.get("model", "")):
            self.slow_task = asyncio.ensure_future(self.slow_stream())
        else:
            t.write(SSE_HEAD + FIRST + TOKEN * self.chunks + LAST)

    async def slow_stream(self) -> None:
        t = self.transport
        if t is None:
            return
        t.write(SSE_HEAD + FIRST)
        for _ in range(self.slow_chunks):
            await asyncio.sleep(self.slow_interval)
            if self.transport is None:
                return
            t.write(TOKEN)
        t.write(LAST)


async def serve(port: int) -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(Upstream, "127.0.0.1", port, backlog=4096)
    async with server:
        await server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=18001)
    parser.add_argument("--chunks", type=int, default=20, help="content chunks per fast stream")
    parser.add_argument("--slow-chunks", type=int, default=60)
    parser.add_argument("--slow-interval", type=float, default=1.0)
    args = parser.parse_args()
    Upstream.chunks = args.chunks
    Upstream.slow_chunks = args.slow_chunks
    Upstream.slow_interval = args.slow_interval
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    asyncio.run(serve(args.port))


if __name__ == "__main__":
    main()
