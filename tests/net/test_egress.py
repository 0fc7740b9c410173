"""The egress policy: which addresses a client-supplied URL may reach, numeric host
forms included, and an MCP client that connects only where the policy allows."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterator

import pytest

from switchyard.net.egress import EgressDenied, EgressPolicy, is_public, numeric_host
from switchyard.tools.mcp import McpClient, McpError
from tests.fakes.mcp_server import start_mcp_server

REFUSED = [
    "127.0.0.1", "127.255.255.254", "10.1.2.3", "172.16.0.1", "172.31.255.255", "192.168.1.1",
    "169.254.169.254", "169.254.0.1", "100.64.0.1", "100.127.255.254", "0.0.0.0", "224.0.0.1", "239.1.2.3",
    "255.255.255.255", "240.0.0.1", "192.0.2.1", "198.18.0.1",
    "::1", "::", "fe80::1", "fc00::1", "fd00:ec2::254", "ff02::1", "::ffff:127.0.0.1", "::ffff:169.254.169.254",
    "64:ff9b::a9fe:a9fe", "2002:7f00:1::1", "2001:db8::1",
]
PUBLIC = ["8.8.8.8", "1.1.1.1", "93.184.216.34", "2606:4700:4700::1111", "2a00:1450:4001:80b::200e"]


@pytest.mark.parametrize("address", REFUSED)
def test_internal_addresses_are_not_public(address: str) -> None:
    assert not is_public(ipaddress.ip_address(address))
    with pytest.raises(EgressDenied):
        EgressPolicy().check(address, [ipaddress.ip_address(address)])


@pytest.mark.parametrize("address", PUBLIC)
def test_public_addresses_are_allowed(address: str) -> None:
    assert is_public(ipaddress.ip_address(address))
    assert EgressPolicy().check("example.com", [ipaddress.ip_address(address)])


@pytest.mark.parametrize(("host", "address"), [
    ("2130706433", "127.0.0.1"), ("0x7f.1", "127.0.0.1"), ("017700000001", "127.0.0.1"), ("127.1", "127.0.0.1"),
    ("0x7f000001", "127.0.0.1"), ("0177.0.0.01", "127.0.0.1"), ("169.254.43518", "169.254.169.254"),
    ("0xa9.0xfe.0xa9.0xfe", "169.254.169.254"), ("2852039166", "169.254.169.254"), ("10.0x1.1", "10.1.0.1"),
    ("[::ffff:127.0.0.1]", "::ffff:127.0.0.1"), ("::1", "::1"), ("0", "0.0.0.0"),
])
def test_numeric_hosts_are_read_as_the_resolver_reads_them(host: str, address: str) -> None:
    assert numeric_host(host) == ipaddress.ip_address(address)


@pytest.mark.parametrize("host", ["0x7f.1", "127.1", "2130706433", "017700000001", "0xa9.0xfe.0xa9.0xfe",
                                  "10.0x1.1", "1.2.3.4", "0x", "08.1.1.1", "1.2.3.256", "1.2.3.4.5", "0x100000000",
                                  "4294967295", "4294967296", "1.16777215", "1.16777216", "1.2.65535", "1.2.65536",
                                  "00000000000000000000000001", "0x00000000000000000000001", "1..2", ".1.2.3"])
def test_ipv4_forms_agree_with_the_c_library(host: str) -> None:
    try:
        expected = ipaddress.IPv4Address(socket.inet_aton(host))
    except OSError:
        expected = None
    assert numeric_host(host) == expected


@pytest.mark.parametrize("host", ["example.com", "1.2.3.4.5", "256.1.1.1.1", "0x", "08.1.1.1", "1.2.3.256",
                                  "mcp.internal", "127.0.0.1.nip.io"])
def test_names_are_not_numeric(host: str) -> None:
    assert numeric_host(host) is None


async def test_numeric_forms_and_names_of_internal_hosts_are_refused_before_connecting() -> None:
    policy = EgressPolicy()
    for host in ("2130706433", "0x7f.1", "017700000001", "[::ffff:127.0.0.1]", "localhost",
                 "metadata.google.internal", "169.254.169.254", "[fd00:ec2::254]", "0"):
        with pytest.raises(EgressDenied):
            await policy.resolve(host.strip("[]"), 80)


def test_allowlist_by_address_network_and_name() -> None:
    policy = EgressPolicy(["127.0.0.1", "10.0.0.0/8", "mcp.internal", "*.corp.example"])
    loopback = ipaddress.ip_address("127.0.0.1")
    assert policy.check("anything", [loopback])
    with pytest.raises(EgressDenied):
        policy.check("anything", [ipaddress.ip_address("127.0.0.2")])
    assert policy.check("x", [ipaddress.ip_address("10.9.8.7")])
    assert policy.check("mcp.internal", [ipaddress.ip_address("192.168.0.5")])
    assert policy.check("tools.corp.example", [ipaddress.ip_address("192.168.0.5")])
    with pytest.raises(EgressDenied):
        policy.check("corp.example.evil.com", [ipaddress.ip_address("192.168.0.5")])
    with pytest.raises(EgressDenied, match="metadata"):
        policy.check("metadata.google.internal", [ipaddress.ip_address("8.8.8.8")])


def test_of_a_name_with_internal_and_public_addresses_only_the_public_ones_are_kept() -> None:
    public, internal = ipaddress.ip_address("8.8.8.8"), ipaddress.ip_address("10.0.0.1")
    assert EgressPolicy().check("mixed.example", [internal, public]) == (public,)
    assert EgressPolicy(["127.0.0.1"]).check("localhost", [ipaddress.ip_address("::1"),
                                                            ipaddress.ip_address("127.0.0.1")]) == (
        ipaddress.ip_address("127.0.0.1"),)


@pytest.fixture(scope="module")
def mcp_port() -> Iterator[int]:
    url, stop = start_mcp_server()
    yield int(url.rsplit(":", 1)[1].split("/")[0])
    stop()


@pytest.mark.parametrize("host", ["127.0.0.1", "2130706433", "0x7f.1", "017700000001", "127.1",
                                  "[::ffff:127.0.0.1]", "localhost"])
async def test_mcp_client_refuses_loopback_in_every_spelling(mcp_port: int, host: str) -> None:
    url = f"http://{host}:{mcp_port}/mcp"
    with pytest.raises(McpError, match="not allowed"):
        await McpClient(timeout=5).list_tools(url)


@pytest.mark.parametrize("host", ["2130706433", "0x7f.1", "017700000001"])
async def test_allowlisted_address_is_reached_in_numeric_spellings_too(mcp_port: int, host: str) -> None:
    """The policy lets them through to 127.0.0.1; the MCP server itself then answers 421 to a
    Host header it does not know (its own DNS-rebinding guard), which proves the request arrived."""
    client = McpClient(timeout=10, egress=EgressPolicy(["127.0.0.1"]))
    with pytest.raises(McpError, match="HTTP 421 Misdirected Request"):
        await client.list_tools(f"http://{host}:{mcp_port}/mcp")
