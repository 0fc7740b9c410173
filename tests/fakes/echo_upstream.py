"""An upstream that answers from the request itself, for many requests arriving in any
order (batches, files being indexed): OpenAI Chat Completions and Embeddings and Anthropic Messages on one
loopback server, each answer in the vendor's exact wire shape.

A chat or message answers ``echo:<last user text>``. Text holding ``FAIL`` gets the
vendor's 400; ``BROKEN`` always gets the vendor's 500; ``FLAKY`` gets a 500 the first time
it is asked and ``BUSY`` an overloaded refusal (503, Anthropic's 529, ``Retry-After: 0``)
the first time; every answer waits ``delay`` seconds. The server counts what it was asked
(``seen``, by text, when it answers), the requests begun (``started``) and how many it
held at once (``max_in_flight``)."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from tests.fakes import anthropic_wire as aw
from tests.fakes import openai_wire as ow
from tests.fakes.upstream import FakeUpstream, Reply


def _text(content: Any) -> str:
    if isinstance(content, list):
        return "".join(part.get("text", "") for part in content if isinstance(part, dict))
    return content if isinstance(content, str) else ""


def _last_user_text(body: dict[str, Any]) -> str:
    users = [m for m in body.get("messages") or [] if m.get("role") == "user"]
    return _text(users[-1].get("content")) if users else ""


class EchoUpstream(FakeUpstream):
    def __init__(self) -> None:
        super().__init__("echo-upstream")
        self.delay = 0.0
        self.seen: Counter[str] = Counter()
        self.in_flight = 0
        self.max_in_flight = 0
        self.started = 0

    def reset(self) -> None:
        super().reset()
        self.delay = 0.0
        self.seen.clear()
        self.in_flight = 0
        self.max_in_flight = 0
        self.started = 0

    async def _handle(self, request: Request) -> Response:
        body = orjson.loads(await request.body() or b"{}")
        self.started += 1
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            if self.delay:
                await asyncio.sleep(self.delay)
            reply = self._answer(request.url.path, body)
        finally:
            self.in_flight -= 1
        return Response(orjson.dumps(reply.json), status_code=reply.status, headers=reply.headers,
                        media_type="application/json")

    def _answer(self, path: str, body: dict[str, Any]) -> Reply:
        if path.endswith("/embeddings"):
            texts = body["input"] if isinstance(body["input"], list) else [body["input"]]
            for text in texts:
                self.seen[str(text)] += 1
            return Reply({"object": "list", "model": body["model"],
                          "data": [{"object": "embedding", "index": i, "embedding": [float(len(str(t))), 0.5, -0.25]}
                                   for i, t in enumerate(texts)],
                          "usage": {"prompt_tokens": 3 * len(texts), "total_tokens": 3 * len(texts)}})
        text = _last_user_text(body)
        self.seen[text] += 1
        anthropic = path.endswith("/messages")
        if "BROKEN" in text or ("FLAKY" in text and self.seen[text] == 1):
            if anthropic:
                return aw.error(500, "api_error", f"upstream broke on {text}")
            return ow.error(500, f"upstream broke on {text}", "server_error")
        if "BUSY" in text and self.seen[text] == 1:
            if anthropic:
                return aw.error(529, "overloaded_error", f"upstream busy on {text}", {"retry-after": "0"})
            return ow.error(503, f"upstream busy on {text}", "server_error", {"retry-after": "0"})
        if "FAIL" in text:
            if anthropic:
                return aw.error(400, "invalid_request_error", f"upstream refuses {text}")
            return ow.error(400, f"upstream refuses {text}")
        if anthropic:
            return aw.message([aw.text(f"echo:{text}")])
        return ow.completion(f"echo:{text}")
