"""An HTTP transport whose every connection obeys the egress policy: the host is
resolved and checked at connect time, and the socket goes to a checked address
(TLS still verifies and sends SNI for the host name). Redirects, and the second
connection of a transport that opens several, are checked the same way. No
proxies from the environment: a proxy would resolve the host itself."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import httpcore2
import httpx2

from switchyard.net.egress import EgressPolicy

SocketOption = Any


class _PinnedBackend(httpcore2.AsyncNetworkBackend):
    def __init__(self, policy: EgressPolicy) -> None:
        self._policy = policy
        self._inner = httpcore2.AnyIOBackend()

    async def connect_tcp(self, host: str, port: int, timeout: float | None = None,
                          local_address: str | None = None,
                          socket_options: Iterable[SocketOption] | None = None) -> httpcore2.AsyncNetworkStream:
        resolved = await self._policy.resolve(host, port)
        failure: Exception | None = None
        for address in resolved.addresses:
            try:
                return await self._inner.connect_tcp(str(address), port, timeout=timeout,
                                                     local_address=local_address, socket_options=socket_options)
            except (httpcore2.ConnectError, httpcore2.ConnectTimeout) as exc:
                failure = exc
        assert failure is not None  # resolve() never returns an empty list
        raise failure

    async def connect_unix_socket(self, path: str, timeout: float | None = None,
                                  socket_options: Iterable[SocketOption] | None = None
                                  ) -> httpcore2.AsyncNetworkStream:
        raise httpcore2.ConnectError("unix sockets are not reachable through the egress policy")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


class PinnedTransport(httpx2.AsyncHTTPTransport):
    def __init__(self, policy: EgressPolicy) -> None:
        super().__init__(trust_env=False)
        self._pool = httpcore2.AsyncConnectionPool(
            ssl_context=httpx2.create_ssl_context(), network_backend=_PinnedBackend(policy),
        )


def guarded_client(policy: EgressPolicy, **kwargs: Any) -> httpx2.AsyncClient:
    """An ``httpx2.AsyncClient`` that reaches only what ``policy`` allows."""
    return httpx2.AsyncClient(transport=PinnedTransport(policy), trust_env=False, **kwargs)
