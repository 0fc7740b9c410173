"""An upstream realtime endpoint (``task: realtime``, ``provider: openai``): one WebSocket
to ``{base_url}/realtime?model=<upstream model>`` with the model's key, carrying the
client's events one way and the upstream's the other, unchanged."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
from yarl import URL

from switchyard.config import ModelConfig
from switchyard.core.errors import ErrorKind, SwitchyardError, invalid
from switchyard.providers.http_upstream import _ssl_context

MAX_FRAME = 16 * 1024 * 1024


def realtime_url(config: ModelConfig) -> str:
    if not config.base_url:
        raise invalid(f"The model '{config.name}' has no base_url to relay realtime sessions to.", "model",
                      "model_not_supported")
    base = URL(config.base_url.rstrip("/") + "/realtime")
    scheme = {"http": "ws", "https": "wss"}.get(base.scheme, base.scheme)
    return str(base.with_scheme(scheme).with_query(model=config.model or config.name))


class RealtimeUpstream:
    def __init__(self, config: ModelConfig) -> None:
        self.config = config
        self._session: aiohttp.ClientSession | None = None
        self._socket: aiohttp.ClientWebSocketResponse | None = None

    async def open(self) -> None:
        """Connects, or raises ``SwitchyardError`` (an upstream refusal keeps its status)."""
        timeout = aiohttp.ClientTimeout(total=None, sock_connect=self.config.connect_timeout)
        self._session = aiohttp.ClientSession(timeout=timeout)
        headers = {"Authorization": f"Bearer {self.config.api_key}"} if self.config.api_key else {}
        url = realtime_url(self.config)
        try:
            self._socket = await self._session.ws_connect(
                url, headers=headers, max_msg_size=MAX_FRAME, heartbeat=30,
                ssl=_ssl_context() if url.startswith("wss:") else None)
        except aiohttp.WSServerHandshakeError as exc:
            await self.aclose()
            kind = {401: ErrorKind.UPSTREAM, 403: ErrorKind.UPSTREAM, 404: ErrorKind.UPSTREAM}.get(
                exc.status, ErrorKind.UPSTREAM)
            raise SwitchyardError(kind, f"The upstream realtime endpoint refused the session (HTTP {exc.status}).",
                                  code="upstream_error") from exc
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            await self.aclose()
            raise SwitchyardError(ErrorKind.UPSTREAM, f"The upstream realtime endpoint is unreachable: {exc}",
                                  code="upstream_unreachable") from exc

    async def send(self, text: str) -> None:
        assert self._socket is not None
        await self._socket.send_str(text)

    async def events(self) -> AsyncIterator[str]:
        """The upstream's text frames until it closes."""
        assert self._socket is not None
        async for message in self._socket:
            if message.type == aiohttp.WSMsgType.TEXT:
                yield message.data
            elif message.type in (aiohttp.WSMsgType.ERROR, aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED):
                return

    async def aclose(self) -> None:
        if self._socket is not None:
            await self._socket.close()
        if self._session is not None:
            await self._session.close()
