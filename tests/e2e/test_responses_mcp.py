"""Remote MCP tools inside the Responses loop, against a real MCP server on
loopback: listing, calls, the approval flow, and the listing cached per chain."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import openai
import pytest

from tests.conftest import VIA_OPENAI
from tests.e2e.responses_stream_validator import check_stream
from tests.fakes import openai_wire as ow
from tests.fakes.mcp_server import start_mcp_server

TOKEN = "mcp-secret"


@pytest.fixture(scope="module")
def mcp_url():
    url, stop = start_mcp_server(token=TOKEN)
    yield url
    stop()


def _tool(url: str, **extra: object) -> dict:
    return {"type": "mcp", "server_label": "calc", "server_url": url,
            "headers": {"Authorization": f"Bearer {TOKEN}"}, **extra}


def test_mcp_tools_are_listed_and_called_in_the_loop(oai, fake_openai, mcp_url) -> None:
    fake_openai.script(ow.completion(None, tool_calls=[("call_a", "add", '{"a": 2, "b": 3}')],
                                     finish_reason="tool_calls"),
                       ow.completion("2 + 3 = 5"))
    response = oai.responses.create(model=VIA_OPENAI, input="What is 2+3?",
                                    tools=[_tool(mcp_url, require_approval="never", allowed_tools=["add", "echo"])])
    kinds = [item.type for item in response.output]
    assert kinds == ["mcp_list_tools", "mcp_call", "message"], kinds
    listing, call = response.output[0], response.output[1]
    assert sorted(t.name for t in listing.tools) == ["add", "echo"]
    assert call.name == "add" and json.loads(call.arguments) == {"a": 2, "b": 3} and call.output == "5"
    assert response.output_text == "2 + 3 = 5"
    sent_tools = [t["function"]["name"] for t in fake_openai.received[0].body["tools"]]
    assert sorted(sent_tools) == ["add", "echo"]
    second_turn = fake_openai.received[1].body["messages"]
    assert second_turn[-1] == {"role": "tool", "tool_call_id": "call_a", "content": "5"}


def test_mcp_stream_events(oai, fake_openai, mcp_url) -> None:
    fake_openai.script(ow.stream([], tool_calls=[("call_e", "echo", ['{"text": ', '"hi"}'])]),
                       ow.stream(["echoed"]))
    events = []
    with oai.responses.stream(model=VIA_OPENAI, input="echo hi",
                              tools=[_tool(mcp_url, require_approval="never")]) as stream:
        for event in stream:
            events.append(event.model_dump(mode="json", exclude_unset=True))
        final = stream.get_final_response()
    check_stream(events)
    types = [e["type"] for e in events]
    for expected in ("response.mcp_list_tools.in_progress", "response.mcp_list_tools.completed",
                     "response.mcp_call.in_progress", "response.mcp_call.completed"):
        assert expected in types, expected
    assert final.output[1].type == "mcp_call" and final.output[1].output == "hi"


def test_approval_flow_and_cached_listing(oai, fake_openai, mcp_url) -> None:
    fake_openai.script(ow.completion(None, tool_calls=[("call_x", "add", '{"a": 1, "b": 1}')],
                                     finish_reason="tool_calls"),
                       ow.completion("It is 2."))
    tools = [_tool(mcp_url)]  # require_approval defaults to "always"
    first = oai.responses.create(model=VIA_OPENAI, input="1+1?", tools=tools)
    assert [i.type for i in first.output] == ["mcp_list_tools", "mcp_approval_request"]
    request = first.output[1]
    assert request.name == "add" and request.server_label == "calc"
    second = oai.responses.create(model=VIA_OPENAI, previous_response_id=first.id, tools=tools,
                                  input=[{"type": "mcp_approval_response", "approval_request_id": request.id,
                                          "approve": True}])
    assert [i.type for i in second.output] == ["mcp_call", "message"]  # no second listing
    assert second.output[0].output == "2" and second.output_text == "It is 2."


def test_failing_mcp_server_is_reported_not_fatal(oai, fake_openai) -> None:
    fake_openai.script(ow.completion("No tools today."))
    response = oai.responses.create(model=VIA_OPENAI, input="hi", tools=[
        {"type": "mcp", "server_label": "down", "server_url": "http://127.0.0.1:9/mcp", "require_approval": "never"}])
    assert response.output[0].type == "mcp_list_tools" and response.output[0].error
    assert response.output_text == "No tools today."


@pytest.mark.parametrize("url", [
    "http://169.254.169.254/mcp", "http://[fd00:ec2::254]/mcp", "http://metadata.google.internal/mcp",
    "http://10.0.0.1/mcp", "http://[::1]:9/mcp", "http://0x7f000002:9/mcp", "http://2130706434:9/mcp",
    "http://[::ffff:169.254.169.254]/mcp", "http://100.64.0.1/mcp", "http://0/mcp",
])
def test_internal_server_urls_are_refused_naming_the_field(oai, fake_openai, url: str) -> None:
    """The test server allowlists 127.0.0.1 only: every other internal address is refused."""
    tools = [{"type": "function", "name": "f", "parameters": {"type": "object", "properties": {}}},
             {"type": "mcp", "server_label": "inside", "server_url": url, "require_approval": "never"}]
    with pytest.raises(openai.BadRequestError) as caught:
        oai.responses.create(model=VIA_OPENAI, input="hi", tools=tools)
    assert caught.value.body["param"] == "tools[1].server_url"
    assert "not allowed" in caught.value.body["message"]
    assert not fake_openai.received


def test_too_many_mcp_servers_is_a_400_naming_tools(oai, fake_openai, mcp_url) -> None:
    tools = [_tool(mcp_url, server_label=f"s{i}") for i in range(9)]
    with pytest.raises(openai.BadRequestError) as caught:
        oai.responses.create(model=VIA_OPENAI, input="hi", tools=tools)
    assert caught.value.body["param"] == "tools" and "MCP servers" in caught.value.body["message"]
    assert not fake_openai.received


def test_listings_of_several_servers_run_at_the_same_time(oai, fake_openai) -> None:
    barrier = threading.Barrier(2, timeout=20)  # each listing waits for the other: one at a time never meets
    servers = [start_mcp_server(list_barrier=barrier) for _ in range(2)]
    try:
        fake_openai.script(ow.completion("listed"))
        tools = [{"type": "mcp", "server_label": f"s{i}", "server_url": url, "require_approval": "never"}
                 for i, (url, _) in enumerate(servers)]
        response = oai.responses.create(model=VIA_OPENAI, input="hi", tools=tools)
    finally:
        for _, stop in servers:
            stop()
    listings = [item for item in response.output if item.type == "mcp_list_tools"]
    assert [(item.server_label, item.error) for item in listings] == [("s0", None), ("s1", None)]
    assert all("add" in {tool.name for tool in item.tools} for item in listings)


def _stored_bytes(server) -> bytes:
    data = Path(server.workdir) / "data"
    return b"".join(path.read_bytes() for path in sorted(data.glob("switchyard.db*")))


def test_mcp_credentials_are_never_stored_in_plaintext(server, oai, fake_openai, mcp_url) -> None:
    """A stored foreground response drops them; a background one keeps them sealed, and its
    run (which the guarded server answers only with the token) still gets them."""
    secret = TOKEN
    fake_openai.script(ow.completion("stored"), ow.stream(["done in the background"]))
    tools = [{"type": "mcp", "server_label": "calc", "server_url": mcp_url, "require_approval": "never",
              "headers": {"Authorization": f"Bearer {secret}"}}]
    foreground = oai.responses.create(model=VIA_OPENAI, input="hi", tools=tools, store=True)
    assert foreground.output[0].type == "mcp_list_tools" and foreground.output[0].error is None
    background = oai.responses.create(model=VIA_OPENAI, input="hi", tools=tools, background=True)
    deadline = time.monotonic() + 30
    while (current := oai.responses.retrieve(background.id)).status in ("queued", "in_progress"):
        assert time.monotonic() < deadline, "the background response never finished"
        time.sleep(0.1)
    assert current.status == "completed", current.error
    assert current.output[0].type == "mcp_list_tools" and current.output[0].error is None
    stored = _stored_bytes(server)
    assert background.id.encode() in stored  # the rows are there, in these files
    assert secret.encode() not in stored
