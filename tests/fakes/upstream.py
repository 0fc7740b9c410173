"""A scripted stand-in for a vendor's API: a real HTTP server on loopback that
answers each request with the next scripted reply, in the vendor's wire format,
and records what it received."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from tests.fakes.loopback import Loopback


@dataclass
class Reply:
    """A whole JSON answer, after ``delay`` seconds (cut short if the client leaves)."""

    json: Any
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


@dataclass
class Stream:
    """An SSE answer: ``frames`` are (event name or None, data). ``delay`` seconds
    pass before each frame; ``hang`` keeps the connection open after the frames,
    ``drop`` cuts it without the usual end."""

    frames: list[tuple[str | None, Any]]
    delay: float = 0.0
    hang: float = 0.0
    drop: bool = False
    stall: tuple[int, float] | None = None  # (after frame k, pause t seconds)


@dataclass
class Raw:
    """Bytes as they are (an image behind a URL the upstream answered with)."""

    content: bytes
    media_type: str = "application/octet-stream"
    status: int = 200


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: Any


Answer = Reply | Stream | Raw
Script = Answer | Callable[[Any], Answer]  # a callable answers from the request body
Check = Callable[[str, Any], Reply | None]  # the vendor's own refusal of a request, if any


def by_stream(reply: Reply, stream: Stream) -> Callable[[Any], Answer]:
    """Either answer, as the request asks: ``stream`` when its body says ``"stream": true``,
    else ``reply`` (for clients whose calls stream upstream or not depending on options)."""

    def answer(body: Any) -> Answer:
        return stream if isinstance(body, dict) and body.get("stream") is True else reply

    return answer


class FakeUpstream(Loopback):
    def __init__(self, name: str, check: Check | None = None) -> None:
        super().__init__(name)
        self.check = check
        self.scripts: deque[Script] = deque()
        self.received: list[Received] = []
        self.abandoned: list[str] = []  # paths of requests whose client left before the answer ended

    def script(self, *scripts: Script) -> None:
        self.scripts.extend(scripts)

    def reset(self) -> None:
        self.scripts.clear()
        self.received.clear()
        self.abandoned.clear()

    @property
    def last(self) -> Received:
        return self.received[-1]

    async def _handle(self, request: Request) -> Response:
        if request.headers.get("content-type", "").startswith("multipart/form-data"):
            body = await _form(request)
        else:
            raw = await request.body()
            body = orjson.loads(raw) if raw else None
        self.received.append(Received(request.url.path, dict(request.headers), body))
        refusal = self.check(request.url.path, body) if self.check is not None else None
        if refusal is not None:
            return Response(orjson.dumps(refusal.json), status_code=refusal.status, media_type="application/json")
        if not self.scripts:
            return Response(
                orjson.dumps({"error": {"message": f"{self.name}: nothing scripted", "type": "fake"}}),
                status_code=500, media_type="application/json",
            )
        script = self.scripts.popleft()
        if callable(script):
            script = script(body)
        if isinstance(script, Raw):
            return Response(script.content, status_code=script.status, media_type=script.media_type)
        if isinstance(script, Reply):
            if script.delay and await _client_leaves(request, script.delay):
                self.abandoned.append(request.url.path)
            return Response(orjson.dumps(script.json), status_code=script.status,
                            headers=script.headers, media_type="application/json")
        return StreamingResponse(self._watched(_frames(script), request.url.path), media_type="text/event-stream")

    async def _watched(self, frames: Any, path: str) -> Any:
        try:
            async for frame in frames:
                yield frame
        except (asyncio.CancelledError, GeneratorExit):  # the client went away mid-answer
            self.abandoned.append(path)
            raise

    def start(self) -> None:
        self.serve(Starlette(routes=[Route("/{path:path}", self._handle, methods=["GET", "POST"])]))


@contextmanager
def running(fakes: Iterable[FakeUpstream]) -> Iterator[dict[str, FakeUpstream]]:
    """The fakes started, by name; stopped on the way out."""
    started = {fake.name: fake for fake in fakes}
    for fake in started.values():
        fake.start()
    try:
        yield started
    finally:
        for fake in started.values():
            fake.stop()


async def _form(request: Request) -> dict[str, Any]:
    """A multipart body as {field: value}: text fields as strings, files as
    {"filename", "content_type", "content"}; a repeated field (``image[]``) as a list."""
    form = await request.form()
    body: dict[str, Any] = {}
    for name, value in form.multi_items():
        if isinstance(value, str):
            entry: Any = value
        else:
            entry = {"filename": value.filename, "content_type": value.content_type, "content": await value.read()}
        if name in body:
            body[name] = [*body[name], entry] if isinstance(body[name], list) else [body[name], entry]
        else:
            body[name] = [entry] if name.endswith("[]") else entry
    return body


async def _frames(script: Stream):
    for k, (event, data) in enumerate(script.frames):
        if script.stall is not None and script.stall[0] == k:
            await asyncio.sleep(script.stall[1])
        if script.delay:
            await asyncio.sleep(script.delay)
        payload = data if isinstance(data, str) else orjson.dumps(data).decode()
        prefix = f"event: {event}\n" if event else ""
        yield f"{prefix}data: {payload}\n\n".encode()
    if script.hang:
        await asyncio.sleep(script.hang)
    if script.drop:
        raise ConnectionResetError("scripted drop")


async def _client_leaves(request: Request, seconds: float) -> bool:
    """Waits ``seconds``; True as soon as the client disconnects instead."""
    deadline = asyncio.get_running_loop().time() + seconds
    while asyncio.get_running_loop().time() < deadline:
        if await request.is_disconnected():
            return True
        await asyncio.sleep(0.02)
    return False

