"""What the HTTP upstream providers share: one request, JSON or SSE back,
failures mapped to canonical errors (raised before the first event, a
``Failure`` event after it)."""

from __future__ import annotations

import asyncio
import functools
import os
import ssl
from collections.abc import AsyncIterator, Callable
from typing import Any, Protocol

import aiohttp
import orjson
from aiohttp.helpers import get_env_proxy_for_url
from yarl import URL

from switchyard.config import ModelConfig
from switchyard.core.events import Event, Failure
from switchyard.providers.sse import SSEParser
from switchyard.providers.upstream_errors import from_exception, from_status


class StreamDecoder(Protocol):
    def feed_sse(self, event: str, data: bytes) -> list[Event]: ...

    def close(self) -> list[Event]: ...


@functools.cache
def _ssl_context() -> ssl.SSLContext:
    """Trust what the HTTP client used before aiohttp did: ``SSL_CERT_FILE`` /
    ``SSL_CERT_DIR`` when set, else certifi's bundle, else the system store."""
    cafile, capath = os.environ.get("SSL_CERT_FILE"), os.environ.get("SSL_CERT_DIR")
    if not cafile and not capath:
        try:
            import certifi

            cafile = certifi.where()
        except ImportError:
            pass
    return ssl.create_default_context(cafile=cafile or None, capath=capath or None)


class UpstreamClient:
    """One connection pool per provider. The aiohttp session belongs to an event
    loop, so it is made on first use, inside the loop that serves requests."""

    def __init__(self, config: ModelConfig) -> None:
        self._timeout = aiohttp.ClientTimeout(
            total=None, connect=None, sock_connect=config.connect_timeout, sock_read=config.timeout
        )
        self._session: aiohttp.ClientSession | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def session(self) -> aiohttp.ClientSession:
        session = self._session
        if session is None or session.closed or self._loop is not asyncio.get_running_loop():
            self._loop = asyncio.get_running_loop()
            connector = aiohttp.TCPConnector(limit=1000, limit_per_host=0, keepalive_timeout=30,
                                             ssl=_ssl_context())
            session = self._session = aiohttp.ClientSession(
                connector=connector, timeout=self._timeout, cookie_jar=aiohttp.DummyCookieJar(),
            )
        return session

    async def aclose(self) -> None:
        session, self._session = self._session, None
        if session is not None and not session.closed:
            await session.close()


def make_client(config: ModelConfig) -> UpstreamClient:
    return UpstreamClient(config)


class HttpUpstream:
    def __init__(self, client: UpstreamClient, url: str, headers: dict[str, str]) -> None:
        self._client = client
        self._url = URL(url)
        self._headers = {"content-type": "application/json", **headers}
        self._stream_headers = {**self._headers, "accept": "text/event-stream"}
        try:  # the proxy environment, read once rather than on every request
            self._proxy, self._proxy_auth = get_env_proxy_for_url(self._url)
        except LookupError:
            self._proxy, self._proxy_auth = None, None

    async def post_json(self, body: dict[str, Any], *, absent: frozenset[int] = frozenset()) -> Any:
        """The JSON answer; ``None`` when the status is one of ``absent`` (an endpoint
        this upstream does not have)."""
        try:
            async with self._client.session().post(
                self._url, data=orjson.dumps(body), headers=self._headers,
                proxy=self._proxy, proxy_auth=self._proxy_auth,
            ) as response:
                status, raw = response.status, await response.read()
        except Exception as exc:
            raise from_exception(exc) from exc
        if status in absent:
            return None
        if status >= 400:
            raise from_status(status, raw, response.headers)
        try:
            return orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise from_exception(exc) from exc

    async def stream(
        self, body: dict[str, Any], decoder_factory: Callable[[], StreamDecoder]
    ) -> AsyncIterator[Event]:
        try:
            response = await self._client.session().post(
                self._url, data=orjson.dumps(body), headers=self._stream_headers,
                proxy=self._proxy, proxy_auth=self._proxy_auth,
            )
        except Exception as exc:
            raise from_exception(exc) from exc
        complete = False
        try:
            if response.status >= 400:
                try:
                    raw = await response.read()
                except Exception as exc:
                    raise from_exception(exc) from exc
                complete = True
                raise from_status(response.status, raw, response.headers)
            decoder = decoder_factory()
            parser = SSEParser()
            started = False
            try:
                async for chunk in response.content.iter_any():
                    for sse in parser.feed(chunk):
                        for event in decoder.feed_sse(sse.event, sse.data):
                            started = True
                            yield event
                            if isinstance(event, Failure):
                                return
                complete = True
                for event in decoder.close():
                    yield event
            except Exception as exc:
                if not started:  # nothing sent yet: the caller can still answer with a status
                    raise from_exception(exc) from exc
                yield Failure(from_exception(exc))
        finally:
            if complete:
                response.release()  # back to the pool
            else:
                response.close()  # abandoned mid-body: the upstream sees the connection go


OPENAI_BASE_URL = "https://api.openai.com/v1"


def bearer_endpoint(config: ModelConfig, path: str, default_base: str = OPENAI_BASE_URL
                    ) -> tuple[UpstreamClient, HttpUpstream]:
    """A client and the endpoint ``{base_url}{path}`` of an OpenAI-style upstream, with the
    model's extra headers and its key as a bearer token."""
    client = make_client(config)
    base = (config.base_url or default_base).rstrip("/")
    headers = dict(config.headers)
    if config.api_key:
        headers["authorization"] = f"Bearer {config.api_key}"
    return client, HttpUpstream(client, f"{base}{path}", headers)
