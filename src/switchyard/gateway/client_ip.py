"""The client's address: the connection's peer, or, when the peer is a trusted
proxy, the nearest untrusted address in ``X-Forwarded-For``."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence

from switchyard.gateway.grants import IpNetwork, address_allowed


class ClientAddress:
    def __init__(self, trusted_proxies: Sequence[str] = ()) -> None:
        self._trusted: tuple[IpNetwork, ...] = tuple(
            ipaddress.ip_network(p, strict=False) for p in trusted_proxies)

    def resolve(self, peer: str | None, headers: Mapping[str, str]) -> str | None:
        if not self._trusted or not address_allowed(peer, self._trusted):
            return peer
        hops = [h.strip() for h in headers.get("x-forwarded-for", "").split(",") if h.strip()]
        for hop in reversed(hops):
            if not address_allowed(hop, self._trusted):
                return hop
        return hops[0] if hops else peer
