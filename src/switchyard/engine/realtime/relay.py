"""A realtime session relayed to an upstream realtime endpoint: the client's frames go up
and the upstream's come down unchanged. Each upstream response is one call, from its
``response.created`` to its ``response.done``: admitted against the caller's rate limits
when it starts (a refused one is cancelled upstream and the client gets the ``error``),
metered with the usage the upstream reports when it ends (one ledger entry each)."""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Awaitable, Callable
from typing import Any

import orjson

from switchyard.codecs.openai_realtime.server_events import error_event
from switchyard.config import ModelConfig
from switchyard.core.errors import SwitchyardError
from switchyard.core.usage import Usage
from switchyard.engine.realtime.context import RealtimeContext
from switchyard.gateway.limits import RateLimited
from switchyard.gateway.realtime_upstreams import meter_response
from switchyard.gateway.turn_watch import admit_call
from switchyard.providers.realtime_relay import RealtimeUpstream


def reported_usage(event: dict[str, Any]) -> Usage | None:
    response = event.get("response")
    usage = response.get("usage") if isinstance(response, dict) else None
    if not isinstance(usage, dict):
        return None
    details = usage.get("input_token_details")
    cached = details.get("cached_tokens") if isinstance(details, dict) else 0
    return Usage(input_tokens=int(usage.get("input_tokens") or 0), output_tokens=int(usage.get("output_tokens") or 0),
                 cached_input_tokens=int(cached or 0))


class RelaySession:
    def __init__(self, ctx: RealtimeContext, config: ModelConfig, upstream: RealtimeUpstream,
                 send: Callable[[str], Awaitable[None]]) -> None:
        self.ctx = ctx
        self.config = config
        self.upstream = upstream
        self.send = send
        self._call: contextlib.AsyncExitStack | None = None  # the response under way, one metered call

    @classmethod
    async def open(cls, ctx: RealtimeContext, config: ModelConfig, send: Callable[[str], Awaitable[None]]
                   ) -> RelaySession:
        """Connected to the upstream, or ``SwitchyardError`` (nothing sent to the client yet)."""
        upstream = RealtimeUpstream(config)
        await upstream.open()
        return cls(ctx, config, upstream, send)

    async def aclose(self) -> None:
        await self.upstream.aclose()

    async def from_client(self, text: str) -> None:
        await self.upstream.send(text)

    async def pump(self) -> None:
        """The upstream's events to the client, until the upstream closes (a response's call
        opens and ends in this task)."""
        try:
            async for text in self.upstream.events():
                event = _response_event(text)
                if event is not None and event["type"] == "response.done":
                    await self._meter(event)
                await self.send(text)
                if event is not None and event["type"] == "response.created":
                    await self._admit(event)
        finally:
            await self._end_call()

    async def _open_call(self) -> None:
        await self._end_call()  # an upstream that never ended the one before
        self._call = contextlib.AsyncExitStack()
        await self._call.enter_async_context(self.ctx.call())

    async def _admit(self, event: dict[str, Any]) -> None:
        await self._open_call()
        try:
            await admit_call(self.config.name, 1, "completions")
        except RateLimited as refused:
            response = event.get("response")
            response_id = response.get("id") if isinstance(response, dict) else None
            await self.upstream.send(orjson.dumps({"type": "response.cancel", "response_id": response_id}).decode())
            await self.send(orjson.dumps(error_event("event_" + secrets.token_hex(10), refused, None)).decode())

    async def _meter(self, event: dict[str, Any]) -> None:
        usage = reported_usage(event)
        if self._call is None:
            await self._open_call()
        if usage is not None:
            meter_response(self.config, usage)
        await self._end_call()

    async def _end_call(self) -> None:
        call, self._call = self._call, None
        if call is not None:
            with contextlib.suppress(SwitchyardError):
                await call.aclose()


def _response_event(text: str) -> dict[str, Any] | None:
    """A ``response.created`` / ``response.done`` event, read only when the frame may be one."""
    if '"response.created"' not in text and '"response.done"' not in text:
        return None
    with contextlib.suppress(orjson.JSONDecodeError):
        event = orjson.loads(text)
        if isinstance(event, dict) and event.get("type") in ("response.created", "response.done"):
            return event
    return None
