"""A realtime session relayed to an upstream realtime endpoint: the client's frames go up
and the upstream's come down unchanged; each upstream ``response.done`` is metered as one
call with the usage it reports (one ledger entry per response)."""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable
from typing import Any

import orjson

from switchyard.config import ModelConfig
from switchyard.core.usage import Usage
from switchyard.engine.realtime.context import RealtimeContext
from switchyard.gateway.realtime_upstreams import meter_response
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
        """The upstream's events to the client, until the upstream closes."""
        async for text in self.upstream.events():
            if '"response.done"' in text:
                await self._meter(text)
            await self.send(text)

    async def _meter(self, text: str) -> None:
        with contextlib.suppress(orjson.JSONDecodeError):
            event = orjson.loads(text)
            if isinstance(event, dict) and event.get("type") == "response.done":
                usage = reported_usage(event)
                if usage is not None:
                    async with self.ctx.call():
                        meter_response(self.config, usage)
