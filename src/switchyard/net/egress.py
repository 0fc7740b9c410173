"""The egress policy: which addresses a URL that a client supplied may reach.

Refused unless allowlisted: loopback, private, link-local, unique-local, CGNAT,
multicast, unspecified, reserved and documentation ranges, IPv6 forms that embed
such an IPv4 address (mapped, 6to4, NAT64), and the cloud metadata services
(169.254.169.254, fd00:ec2::254, and their host names).

A host is checked after resolution: a numeric host in any form the C resolver
accepts (``2130706433``, ``0x7f.1``, ``017700000001``, ``127.1``) is read here as
the address it means, and a name is resolved once, every address it has is
checked, and the caller connects to the allowed ones only (see
``switchyard.net.pinned``), so a second, different DNS answer cannot be slipped in.

The allowlist holds host names (``mcp.internal``; ``*.corp.example`` for any
subdomain), addresses and networks (``127.0.0.1``, ``10.0.0.0/8``, ``::1``)."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Iterable
from dataclasses import dataclass

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

METADATA_HOSTS = frozenset({
    "metadata", "metadata.google.internal", "metadata.goog", "metadata.azure.internal",
    "instance-data", "instance-data.ec2.internal",
})
_EXTRA_DENIED: tuple[Network, ...] = (
    ipaddress.ip_network("100.64.0.0/10"),  # CGNAT (shared address space)
    ipaddress.ip_network("fd00:ec2::254/128"),  # AWS metadata over IPv6 (inside fc00::/7 as well)
)
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
RESOLVE_SECONDS = 10.0


class EgressDenied(Exception):
    """The URL's host is, or resolves to, an address the policy refuses."""


@dataclass(frozen=True, slots=True)
class Resolved:
    host: str
    addresses: tuple[Address, ...]


def numeric_host(host: str) -> Address | None:
    """The address ``host`` spells, in any IPv4 form ``inet_aton`` accepts (1 to 4
    parts, each decimal, octal with a leading 0, or hex with 0x) or as IPv6."""
    try:
        return ipaddress.ip_address(host.strip("[]").split("%", 1)[0])
    except ValueError:
        pass
    parts = host.rstrip(".").split(".") if host else []
    if not 1 <= len(parts) <= 4:
        return None
    values: list[int] = []
    for part in parts:
        value = _inet_aton_part(part)
        if value is None:
            return None
        values.append(value)
    *head, last = values
    if any(v > 255 for v in head) or last >= 256 ** (5 - len(values)):
        return None
    number = 0
    for v in head:
        number = number * 256 + v
    number = (number << (8 * (5 - len(values)))) | last
    return ipaddress.IPv4Address(number)


def _inet_aton_part(part: str) -> int | None:
    lowered = part.lower()
    try:
        if lowered.startswith("0x"):
            return int(lowered[2:], 16) if lowered[2:] else None
        if len(lowered) > 1 and lowered.startswith("0"):
            return int(lowered[1:], 8)
        return int(lowered, 10) if lowered.isdigit() else None
    except ValueError:
        return None


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def is_public(address: Address) -> bool:
    """Whether ``address`` is an ordinary public unicast address."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(address)
        if embedded is not None and not is_public(embedded):
            return False
        if address.scope_id:
            return False
    if address.is_multicast or address.is_unspecified or address.is_loopback or address.is_link_local:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.is_site_local:
        return False
    if any(address in network for network in _EXTRA_DENIED if network.version == address.version):
        return False
    return address.is_global


class EgressPolicy:
    def __init__(self, allowlist: Iterable[str] = ()) -> None:
        self._networks: list[Network] = []
        self._hosts: set[str] = set()
        self._suffixes: list[str] = []
        for entry in allowlist:
            self._add(entry.strip())

    def _add(self, entry: str) -> None:
        if not entry:
            return
        try:
            self._networks.append(ipaddress.ip_network(entry.strip("[]"), strict=False))
            return
        except ValueError:
            pass
        name = entry.lower().rstrip(".")
        if name.startswith("*."):
            self._suffixes.append(name[1:])
        else:
            self._hosts.add(name)

    def host_allowed(self, host: str) -> bool:
        name = host.lower().rstrip(".")
        return name in self._hosts or any(name.endswith(suffix) for suffix in self._suffixes)

    def address_allowed(self, address: Address) -> bool:
        if any(address in network for network in self._networks if network.version == address.version):
            return True
        return is_public(address)

    def check(self, host: str, addresses: Iterable[Address]) -> tuple[Address, ...]:
        """Those of ``addresses`` the policy lets ``host`` reach (the only ones to connect to);
        ``EgressDenied`` when there are none."""
        found = tuple(addresses)
        if not found:
            raise EgressDenied(f"'{host}' has no address")
        if self.host_allowed(host):
            return found
        if host.lower().rstrip(".") in METADATA_HOSTS:
            raise EgressDenied(f"'{host}' is a cloud metadata service")
        allowed = tuple(address for address in found if self.address_allowed(address))
        if not allowed:
            raise EgressDenied(f"'{host}' is or resolves to an address that is not allowed ({found[0]})")
        return allowed

    async def resolve(self, host: str, port: int) -> Resolved:
        """The checked addresses of ``host``, resolved once."""
        numeric = numeric_host(host)
        if numeric is not None:
            return Resolved(host, self.check(host, [numeric]))
        if host.lower().rstrip(".") in METADATA_HOSTS and not self.host_allowed(host):
            raise EgressDenied(f"'{host}' is a cloud metadata service")
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(RESOLVE_SECONDS):
                infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError, TimeoutError) as exc:
            raise EgressDenied(f"'{host}' cannot be resolved") from exc
        seen: dict[Address, None] = {}
        for _family, _type, _proto, _name, sockaddr in infos:
            seen.setdefault(ipaddress.ip_address(sockaddr[0]), None)
        return Resolved(host, self.check(host, seen))
