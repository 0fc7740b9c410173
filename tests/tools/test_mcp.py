"""McpClient against a real MCP server (tests/fakes/mcp_server.py) over loopback."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator

import mcp_types
import pytest

from switchyard.net.egress import EgressPolicy
from switchyard.tools.mcp import McpClient, McpError, McpResult, McpTool, render_output
from tests.fakes.mcp_server import start_mcp_server

TOKEN = "s3cret-token"
LOOPBACK = EgressPolicy(["127.0.0.1"])  # the test servers live on loopback, which the policy refuses by default


@pytest.fixture(scope="module")
def server_url() -> Iterator[str]:
    url, stop = start_mcp_server()
    yield url
    stop()


@pytest.fixture(scope="module")
def guarded_url() -> Iterator[str]:
    url, stop = start_mcp_server(token=TOKEN)
    yield url
    stop()


@pytest.fixture(scope="module")
def legacy_url() -> Iterator[str]:
    """An HTTP+SSE-only server whose path does not say so (found by the 405 on POST)."""
    url, stop = start_mcp_server(legacy_sse_path="/events")
    yield url
    stop()


@pytest.fixture(scope="module")
def legacy_sse_url() -> Iterator[str]:
    url, stop = start_mcp_server(legacy_sse_path="/sse")
    yield url
    stop()


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts TCP connections and never answers."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(16)
        yield sock.getsockname()[1]


@pytest.fixture
def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_list_tools_returns_names_descriptions_and_schemas(server_url: str) -> None:
    tools = {tool.name: tool for tool in await McpClient(egress=LOOPBACK).list_tools(server_url)}
    assert {"add", "echo", "fail"} <= set(tools)
    add = tools["add"]
    assert isinstance(add, McpTool)
    assert add.description == "Add two integers."
    assert add.input_schema["type"] == "object"
    assert add.input_schema["required"] == ["a", "b"]
    assert add.input_schema["properties"]["a"]["type"] == "integer"
    assert tools["echo"].input_schema["properties"]["text"]["type"] == "string"
    assert tools["fail"].input_schema["required"] == ["reason"]


@pytest.mark.parametrize(("name", "arguments", "expected"), [
    ("add", {"a": 2, "b": 3}, McpResult(output="5", is_error=False)),
    ("echo", {"text": "héllo\nworld"}, McpResult(output="héllo\nworld", is_error=False)),
])
async def test_call_tool_returns_text(server_url: str, name: str, arguments: dict[str, object],
                                      expected: McpResult) -> None:
    assert await McpClient(egress=LOOPBACK).call_tool(server_url, None, name, arguments) == expected


async def test_failing_tool_is_an_error_result_not_an_exception(server_url: str) -> None:
    result = await McpClient(egress=LOOPBACK).call_tool(server_url, None, "fail", {"reason": "the disk is full"})
    assert result.is_error
    assert "the disk is full" in result.output


@pytest.mark.parametrize(("name", "arguments", "needle"), [
    ("no_such_tool", {}, "no_such_tool"),
    ("add", {"a": "x"}, "a"),
])
async def test_unknown_tool_and_bad_arguments_are_error_results(server_url: str, name: str,
                                                                arguments: dict[str, object], needle: str) -> None:
    result = await McpClient(egress=LOOPBACK).call_tool(server_url, None, name, arguments)
    assert result.is_error
    assert needle in result.output


async def test_invalid_params_error_is_an_error_result(server_url: str) -> None:
    client = McpClient(egress=LOOPBACK)
    result = await client.call_tool(server_url, None, "reject", {"code": -32602, "message": "bad 'x'"})
    assert result == McpResult(output="bad 'x'", is_error=True)


@pytest.mark.parametrize("code", [-32603, -32601, -32600, 42])
async def test_other_json_rpc_errors_raise(server_url: str, code: int) -> None:
    with pytest.raises(McpError) as caught:
        await McpClient(egress=LOOPBACK).call_tool(server_url, None, "reject", {"code": code, "message": "it broke"})
    assert str(caught.value) == f"MCP server {server_url}: JSON-RPC error {code}: it broke"


async def test_image_block_is_described_without_its_bytes(server_url: str) -> None:
    result = await McpClient(egress=LOOPBACK).call_tool(server_url, None, "picture", {})
    assert not result.is_error
    assert result.output == '{"type":"image","mimeType":"image/png"}'


async def test_bearer_token_is_sent(guarded_url: str) -> None:
    client = McpClient(egress=LOOPBACK)
    headers = {"Authorization": f"Bearer {TOKEN}"}
    assert "add" in {tool.name for tool in await client.list_tools(guarded_url, headers)}
    assert await client.call_tool(guarded_url, headers, "add", {"a": 1, "b": 1}) == McpResult("2", False)


@pytest.mark.parametrize("headers", [None, {"Authorization": "Bearer wrong"}])
async def test_wrong_token_is_an_error_naming_the_server(guarded_url: str, headers: dict[str, str] | None) -> None:
    with pytest.raises(McpError) as caught:
        await McpClient(egress=LOOPBACK).list_tools(guarded_url, headers)
    message = str(caught.value)
    assert guarded_url in message
    assert "401" in message
    assert "ExceptionGroup" not in message


async def test_wrong_token_on_call_is_an_error(guarded_url: str) -> None:
    with pytest.raises(McpError, match="401"):
        await McpClient(egress=LOOPBACK).call_tool(guarded_url, {"Authorization": "Bearer wrong"}, "add",
                                                   {"a": 1, "b": 2})


async def test_closed_silent_and_slow_servers_read_alike(closed_port: int, silent_port: int, server_url: str) -> None:
    """A refused connection, a port that never answers and a server too slow to answer
    give one message, so a caller cannot map which ports are open."""
    messages = []
    for url, call in ((f"http://127.0.0.1:{closed_port}/mcp", ("add", {"a": 1, "b": 2})),
                      (f"http://127.0.0.1:{silent_port}/mcp", ("add", {"a": 1, "b": 2})),
                      (server_url, ("slow", {"seconds": 5}))):
        with pytest.raises(McpError) as caught:
            await McpClient(timeout=0.5, egress=LOOPBACK).call_tool(url, None, *call)
        messages.append(str(caught.value).replace(url, "URL"))
    assert messages == ["MCP server URL: cannot be reached (no connection, or no answer within 0.5s)"] * 3


async def test_loopback_is_refused_without_an_allowlist(server_url: str) -> None:
    with pytest.raises(McpError) as caught:
        await McpClient(timeout=5).list_tools(server_url)
    assert str(caught.value).startswith(f"MCP server {server_url}: not allowed: ")
    assert "127.0.0.1" in str(caught.value)


async def test_wrong_path_is_an_error(server_url: str) -> None:
    url = server_url.replace("/mcp", "/nothing-here")
    with pytest.raises(McpError) as caught:
        await McpClient(timeout=5, egress=LOOPBACK).list_tools(url)
    assert str(caught.value) == (
        f"MCP server {url}: Streamable HTTP: HTTP 404 Not Found; HTTP+SSE fallback: HTTP 404 Not Found"
    )


async def test_url_secrets_are_not_echoed(closed_port: int) -> None:
    with pytest.raises(McpError) as caught:
        await McpClient(egress=LOOPBACK).list_tools(f"http://user:pw@127.0.0.1:{closed_port}/mcp?api_key=hunter2")
    assert "hunter2" not in str(caught.value)
    assert "pw" not in str(caught.value)


@pytest.mark.parametrize("fixture", ["legacy_url", "legacy_sse_url"])
async def test_legacy_sse_server(fixture: str, request: pytest.FixtureRequest) -> None:
    url = request.getfixturevalue(fixture)
    client = McpClient(timeout=10, egress=LOOPBACK)
    assert "echo" in {tool.name for tool in await client.list_tools(url)}
    assert await client.call_tool(url, None, "add", {"a": 20, "b": 22}) == McpResult("42", False)


async def test_concurrent_calls(server_url: str) -> None:
    client = McpClient(egress=LOOPBACK)
    results = await asyncio.gather(
        *(client.call_tool(server_url, None, "add", {"a": k, "b": 1}) for k in range(12)),
        client.call_tool(server_url, None, "fail", {"reason": "nope"}),
        client.list_tools(server_url),
    )
    assert [r.output for r in results[:12]] == [str(k + 1) for k in range(12)]
    assert results[12].is_error
    assert len(results[13]) >= 3


async def test_closed_client_refuses(server_url: str) -> None:
    client = McpClient(egress=LOOPBACK)
    await client.aclose()
    with pytest.raises(McpError, match="closed"):
        await client.list_tools(server_url)


@pytest.mark.parametrize(("content", "structured", "expected"), [
    ([mcp_types.TextContent(type="text", text="a"), mcp_types.TextContent(type="text", text="b")], None, "a\nb"),
    ([mcp_types.TextContent(type="text", text="7")], {"result": 7}, "7"),
    ([], {"result": 7}, '{"result":7}'),
    ([], None, ""),
    ([mcp_types.EmbeddedResource(type="resource", resource=mcp_types.BlobResourceContents(
        uri="file:///x.bin", mime_type="application/octet-stream", blob="AAAA"))], None,
     '{"type":"resource","resource":{"uri":"file:///x.bin","mimeType":"application/octet-stream"}}'),
    ([mcp_types.EmbeddedResource(type="resource", resource=mcp_types.TextResourceContents(
        uri="file:///x.txt", text="hi"))], None,
     '{"type":"resource","resource":{"uri":"file:///x.txt","text":"hi"}}'),
    ([mcp_types.ResourceLink(type="resource_link", uri="https://e.x/doc", name="doc")], None,
     '{"type":"resource_link","name":"doc","uri":"https://e.x/doc"}'),
])
def test_render_output(content: list[mcp_types.ContentBlock], structured: dict[str, object] | None,
                       expected: str) -> None:
    result = mcp_types.CallToolResult(content=content, structured_content=structured)
    assert render_output(result) == expected
