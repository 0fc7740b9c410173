"""The usage ledger of a live server: one entry per request with what was generated,
whatever the ending (completed, the client leaving mid-stream, the upstream failing
mid-stream, an upstream that reports no usage), the cost in the answer, and the
OpenAI-shaped usage and costs endpoints over the same entries."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import anthropic
import httpx
import openai
import pytest
from websockets.sync.client import connect as ws_connect

from switchyard.providers.token_count import count_text
from switchyard.store import ApiKeyRepository, Database
from tests.conftest import LOCAL, VIA_ANTHROPIC, VIA_OPENAI, VIA_OPENAI_EMBEDDING, embedding_models, upstream_models
from tests.e2e.ledger import ADMIN, entries, newest_id, wait_new
from tests.fakes import anthropic_wire as aw
from tests.fakes import openai_wire as ow
from tests.fakes.loopback import free_port
from tests.fakes.mcp_server import start_mcp_server
from tests.fakes.upstream import FakeUpstream, Reply, Stream
from tests.server import MASTER_KEY, LiveServer

PRICE = {"input_per_mtok": "1.00", "cached_input_per_mtok": "0.50", "output_per_mtok": "2.00"}
EMBED_PRICE = {"input_per_mtok": "0.02"}
FAILING_OVER = "ledger-failover"
WORDS = [" one", " two", " three", " four", " five", " six", " seven", " eight"]


def nano(input_tokens: int, output_tokens: int, cached: int = 0) -> int:
    """The cost at PRICE, in nano-dollars (1 USD/Mtok is 1000 nano-USD a token)."""
    return (input_tokens - cached) * 1000 + cached * 500 + output_tokens * 2000


def usd(nanos: int) -> str:
    text = f"{nanos / 1e9:.9f}".rstrip("0")
    return text.rstrip(".") if nanos else "0"


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory, fake_openai: FakeUpstream,
         fake_anthropic: FakeUpstream) -> Iterator[LiveServer]:
    models = [{**m, "price": PRICE} for m in upstream_models(fake_openai, fake_anthropic)]
    models.append({"name": FAILING_OVER, "provider": "openai", "model": "gpt-upstream", "timeout": 5, "price": PRICE,
                   "deployments": [  # the first refuses connections (nothing listens there)
                       {"id": "down", "base_url": f"http://127.0.0.1:{free_port()}/v1", "api_key": "k"},
                       {"id": "up", "base_url": fake_openai.url + "/v1", "api_key": "k", "priority": 1}]})
    embeddings = [{**m, "price": EMBED_PRICE} if m["name"] == VIA_OPENAI_EMBEDDING else m
                  for m in embedding_models(fake_openai)]
    server = LiveServer(tmp_path_factory.mktemp("ledger"), [*models, *embeddings],
                        metering={"flush_seconds": 0.05}, egress_allowlist=["127.0.0.1"])
    server.start(wait_ready=True, timeout=60)
    yield server
    server.stop()


@pytest.fixture
def client(live: LiveServer) -> openai.OpenAI:
    return openai.OpenAI(base_url=live.url + "/v1", api_key=MASTER_KEY, max_retries=0, timeout=30)


def test_a_completed_call_is_one_entry_and_its_cost_is_in_the_answer(live, client, fake_openai) -> None:
    before = newest_id(live)
    fake_openai.script(ow.completion("Hi there", use=ow.usage(prompt=40, completion=9, cached=16, reasoning=3)))
    raw = client.chat.completions.with_raw_response.create(
        model=VIA_OPENAI, messages=[{"role": "user", "content": "hello"}])
    assert raw.parse().choices[0].message.content == "Hi there"
    cost = nano(40, 9, cached=16)
    assert raw.headers["x-switchyard-cost-usd"] == usd(cost)
    [entry] = wait_new(live, before)
    assert entry["project_id"] == "proj_default" and entry["api_key_id"] is None
    assert (entry["surface"], entry["model"], entry["kind"]) == ("openai.chat", VIA_OPENAI, "completions")
    assert (entry["status"], entry["outcome"], entry["error_code"]) == (200, "completed", None)
    assert entry["deployment"] is not None and entry["deployment"].startswith(VIA_OPENAI), entry["deployment"]
    assert entry["usage"] == {"input_tokens": 40, "input_cached_tokens": 16, "input_cache_write_tokens": 0,
                              "output_tokens": 9, "output_reasoning_tokens": 3, "counted_by_switchyard": False}
    assert entry["cost"]["exact"] == usd(cost) and entry["num_model_requests"] == 1
    assert entry["request_id"].startswith("req_") and entry["latency_ms"] >= entry["time_to_first_token_ms"] >= 0


def test_a_completed_stream_carries_its_cost_after_the_last_event(live, fake_openai) -> None:
    before = newest_id(live)
    fake_openai.script(ow.stream(["Hel", "lo"], use=ow.usage(prompt=12, completion=2)))
    body = {"model": VIA_OPENAI, "stream": True, "messages": [{"role": "user", "content": "hi"}]}
    answer = httpx.post(live.url + "/v1/chat/completions", json=body, headers=ADMIN, timeout=30)
    assert answer.status_code == 200 and "x-switchyard-cost-usd" not in answer.headers
    assert answer.text.endswith(f"data: [DONE]\n\n: x-switchyard-cost-usd {usd(nano(12, 2))}\n\n")
    [entry] = wait_new(live, before)
    assert entry["outcome"] == "completed" and entry["usage"]["output_tokens"] == 2
    assert entry["cost"]["exact"] == usd(nano(12, 2))


def test_a_request_that_failed_over_is_one_entry_for_the_deployment_that_answered(live, client, fake_openai) -> None:
    before = newest_id(live)
    fake_openai.script(ow.completion("from up", use=ow.usage(prompt=10, completion=4)))
    reply = client.chat.completions.create(model=FAILING_OVER, messages=[{"role": "user", "content": "hi"}])
    assert reply.choices[0].message.content == "from up"
    [entry] = wait_new(live, before)
    assert (entry["model"], entry["deployment"], entry["outcome"]) == (FAILING_OVER, "up", "completed")
    assert (entry["num_model_requests"], entry["cost"]["exact"]) == (1, usd(nano(10, 4)))


def test_a_client_leaving_mid_stream_is_billed_for_what_was_generated(live, fake_openai) -> None:
    """The upstream sends five one-token words and then holds the stream open; the client
    reads them and hangs up. The upstream's usage never comes: Switchyard counted."""
    before = newest_id(live)
    held = ow.stream(WORDS[:5])
    fake_openai.script(Stream(held.frames[:6], hang=120))  # the role chunk, five words, nothing more
    assert all(count_text(w) == 1 for w in WORDS)
    body = {"model": VIA_OPENAI, "stream": True, "messages": [{"role": "user", "content": "count"}]}
    received = ""
    with httpx.stream("POST", live.url + "/v1/chat/completions", json=body, headers=ADMIN, timeout=30) as answer:
        for line in answer.iter_lines():
            if '"content":" ' in line:
                received += line
            if received.count('"content":" ') == 5:
                break
    [entry] = wait_new(live, before)
    assert (entry["status"], entry["outcome"]) == (200, "client_disconnected")
    usage = entry["usage"]
    assert usage["output_tokens"] == 5 and usage["counted_by_switchyard"] is True
    assert usage["input_tokens"] > 0  # the prompt, counted locally
    assert entry["cost"]["exact"] == usd(nano(usage["input_tokens"], 5))
    assert fake_openai.abandoned == ["/v1/chat/completions"]


def test_an_anthropic_client_leaving_mid_stream_is_billed_for_what_was_generated(live, fake_anthropic) -> None:
    """The upstream said the prompt's size when it started (12 tokens), sends three one-token
    pieces and holds on; its final usage never comes."""
    before = newest_id(live)
    whole = aw.stream([aw.text(" one two three")], use=aw.usage(input_tokens=12, output_tokens=3))
    fake_anthropic.script(Stream(whole.frames[:5], hang=120))  # message_start, block start, three deltas
    body = {"model": VIA_ANTHROPIC, "max_tokens": 50, "stream": True, "messages": [{"role": "user", "content": "go"}]}
    headers = {**ADMIN, "anthropic-version": "2023-06-01"}
    with httpx.stream("POST", live.url + "/v1/messages", json=body, headers=headers, timeout=30) as answer:
        deltas = 0
        for line in answer.iter_lines():
            deltas += line.startswith("event: content_block_delta")
            if deltas == 3:
                break
    [entry] = wait_new(live, before)
    assert (entry["surface"], entry["outcome"]) == ("anthropic.messages", "client_disconnected")
    assert (entry["usage"]["input_tokens"], entry["usage"]["output_tokens"]) == (12, 3)
    assert entry["cost"]["exact"] == usd(nano(12, 3))


def test_an_upstream_failing_mid_stream_is_billed_for_what_it_generated(live, client, fake_openai) -> None:
    before = newest_id(live)
    fake_openai.script(ow.stream(WORDS[:6], drop_after=4))  # the role chunk and three words, then a cut
    with pytest.raises(openai.APIError):
        for _ in client.chat.completions.create(model=VIA_OPENAI, stream=True,
                                                messages=[{"role": "user", "content": "count"}]):
            pass
    [entry] = wait_new(live, before)
    assert (entry["status"], entry["outcome"]) == (200, "upstream_error")
    assert entry["error_code"] is not None
    assert entry["usage"]["output_tokens"] == 3 and entry["usage"]["counted_by_switchyard"] is True


def test_an_upstream_that_reports_no_usage_is_counted_as_it_streams(live, client, fake_openai) -> None:
    before = newest_id(live)
    full = ow.stream(WORDS)
    fake_openai.script(Stream([f for f in full.frames if not (isinstance(f[1], dict) and "usage" in f[1])]))
    text = "".join(chunk.choices[0].delta.content or "" for chunk in client.chat.completions.create(
        model=VIA_OPENAI, stream=True, messages=[{"role": "user", "content": "count"}]) if chunk.choices)
    assert text == "".join(WORDS)
    [entry] = wait_new(live, before)
    assert entry["outcome"] == "completed"
    assert entry["usage"]["output_tokens"] == len(WORDS) and entry["usage"]["counted_by_switchyard"] is True


def test_an_upstream_error_before_any_output_costs_nothing(live, client, fake_openai) -> None:
    before = newest_id(live)
    fake_openai.script(ow.error(500, "upstream exploded", "server_error"))
    with pytest.raises(openai.APIStatusError) as raised:
        client.chat.completions.create(model=VIA_OPENAI, messages=[{"role": "user", "content": "hi"}])
    assert raised.value.response.headers["x-switchyard-cost-usd"] == "0"
    [entry] = wait_new(live, before)
    assert entry["status"] == raised.value.status_code and entry["outcome"] == "upstream_error"
    assert entry["cost"]["exact"] == "0" and entry["usage"]["output_tokens"] == 0


def test_anthropic_messages_are_metered(live, fake_anthropic) -> None:
    before = newest_id(live)
    fake_anthropic.script(aw.stream([aw.text("Hi!")], use=aw.usage(input_tokens=30, output_tokens=4)))
    claude = anthropic.Anthropic(base_url=live.url, api_key=MASTER_KEY, max_retries=0)
    with claude.messages.stream(model=VIA_ANTHROPIC, max_tokens=50,
                                messages=[{"role": "user", "content": "hi"}]) as stream:
        assert stream.get_final_text() == "Hi!"
    [entry] = wait_new(live, before)
    assert (entry["surface"], entry["model"], entry["outcome"]) == ("anthropic.messages", VIA_ANTHROPIC, "completed")
    assert (entry["usage"]["input_tokens"], entry["usage"]["output_tokens"]) == (30, 4)


def test_embeddings_are_metered(live, client, fake_openai) -> None:
    before = newest_id(live)
    fake_openai.script(Reply({"object": "list", "model": "text-embedding-3-small",
                              "data": [{"object": "embedding", "index": 0, "embedding": [0.5, 0.5]}],
                              "usage": {"prompt_tokens": 123, "total_tokens": 123}}))
    raw = client.embeddings.with_raw_response.create(model=VIA_OPENAI_EMBEDDING, input="hello",
                                                     encoding_format="float")
    assert raw.headers["x-switchyard-cost-usd"] == usd(123 * 20)
    [entry] = wait_new(live, before)
    assert (entry["kind"], entry["surface"]) == ("embeddings", "openai.embeddings")
    assert entry["model"] == VIA_OPENAI_EMBEDDING
    assert entry["usage"]["input_tokens"] == 123 and entry["cost"]["exact"] == usd(123 * 20)


def test_a_responses_call_is_one_entry(live, fake_openai) -> None:
    before = newest_id(live)
    fake_openai.script(ow.completion("Fine", use=ow.usage(prompt=21, completion=1)))
    gpt = openai.OpenAI(base_url=live.url + "/v1", api_key=MASTER_KEY, max_retries=0)
    response = gpt.responses.create(model=VIA_OPENAI, input="hi", store=False)
    assert response.output_text == "Fine"
    [entry] = wait_new(live, before)
    assert (entry["surface"], entry["num_model_requests"], entry["outcome"]) == ("openai.responses", 1, "completed")
    assert (entry["usage"]["input_tokens"], entry["usage"]["output_tokens"]) == (21, 1)


def test_a_responses_tool_loop_is_one_entry_with_the_turns_summed(live, fake_openai) -> None:
    """Two model turns around a remote MCP tool call, streamed: the second turn starts while
    the answer is being sent, under the same request."""
    url, stop = start_mcp_server(token="t")
    try:
        before = newest_id(live)
        fake_openai.script(ow.stream([], tool_calls=[("call_e", "echo", ['{"text": "hi"}'])],
                                     use=ow.usage(prompt=50, completion=7)),
                           ow.stream(["echoed"], use=ow.usage(prompt=70, completion=2, cached=50)))
        gpt = openai.OpenAI(base_url=live.url + "/v1", api_key=MASTER_KEY, max_retries=0)
        tool = {"type": "mcp", "server_label": "calc", "server_url": url, "require_approval": "never",
                "headers": {"Authorization": "Bearer t"}}
        with gpt.responses.stream(model=VIA_OPENAI, input="echo hi", tools=[tool]) as stream:
            final = stream.get_final_response()
        assert final.output_text == "echoed"
    finally:
        stop()
    [entry] = wait_new(live, before)
    assert (entry["surface"], entry["num_model_requests"], entry["outcome"]) == ("openai.responses", 2, "completed")
    assert entry["usage"]["input_tokens"] == 120 and entry["usage"]["output_tokens"] == 9
    assert entry["usage"]["input_cached_tokens"] == 50
    assert entry["cost"]["exact"] == usd(nano(50, 7) + nano(70, 2, cached=50))


def test_a_background_response_is_one_entry_for_its_run(live, fake_openai) -> None:
    before = newest_id(live)
    fake_openai.script(ow.stream(["Later"], use=ow.usage(prompt=8, completion=1)))
    gpt = openai.OpenAI(base_url=live.url + "/v1", api_key=MASTER_KEY, max_retries=0)
    queued = gpt.responses.create(model=VIA_OPENAI, input="hi", background=True)
    [entry] = wait_new(live, before)
    assert gpt.responses.retrieve(queued.id).status == "completed"
    assert (entry["surface"], entry["status"], entry["outcome"]) == ("openai.responses", None, "completed")
    assert (entry["project_id"], entry["usage"]["input_tokens"]) == ("proj_default", 8)


def test_each_websocket_response_is_one_entry(live, fake_openai) -> None:
    before = newest_id(live)
    fake_openai.script(ow.stream(["One"], use=ow.usage(prompt=5, completion=1)),
                       ow.stream(["Two"], use=ow.usage(prompt=6, completion=1)))
    url = live.url.replace("http", "ws") + "/v1/responses"
    with ws_connect(url, additional_headers={"authorization": f"Bearer {MASTER_KEY}"}) as ws:
        for _ in range(2):
            ws.send(json.dumps({"type": "response.create", "model": VIA_OPENAI, "input": "hi", "store": False}))
            while json.loads(ws.recv())["type"] != "response.completed":
                pass
    made = wait_new(live, before, 2)
    assert [(e["surface"], e["usage"]["input_tokens"], e["outcome"]) for e in made] == [
        ("openai.responses_ws", 5, "completed"), ("openai.responses_ws", 6, "completed")]
    assert made[0]["request_id"] != made[1]["request_id"]


def test_the_embedded_model_is_metered_and_free(server) -> None:
    before = newest_id(server)
    local = openai.OpenAI(base_url=server.url + "/v1", api_key=MASTER_KEY, max_retries=0, timeout=120)
    raw = local.chat.completions.with_raw_response.create(
        model=LOCAL, max_tokens=3, temperature=0, messages=[{"role": "user", "content": "Say yes."}])
    usage = raw.parse().usage
    assert raw.headers["x-switchyard-cost-usd"] == "0"
    [entry] = wait_new(server, before)
    assert (entry["model"], entry["outcome"], entry["cost"]["exact"]) == (LOCAL, "completed", "0")
    assert (entry["usage"]["input_tokens"], entry["usage"]["output_tokens"]) == (usage.prompt_tokens,
                                                                                usage.completion_tokens)


# --- the OpenAI-shaped usage and costs endpoints ----------------------------------------------

def _admin(live: LiveServer) -> openai.OpenAI:
    return openai.OpenAI(base_url=live.url + "/v1", api_key="unused", admin_api_key=MASTER_KEY, max_retries=0)


def test_usage_buckets_and_groups_what_the_ledger_holds(live, client, fake_openai, fake_anthropic) -> None:
    start = int(time.time()) - 5
    fake_openai.script(ow.completion("a", use=ow.usage(prompt=100, completion=10)),
                       ow.completion("b", use=ow.usage(prompt=200, completion=20)))
    for _ in range(2):
        client.chat.completions.create(model=VIA_OPENAI, messages=[{"role": "user", "content": "x"}])
    fake_anthropic.script(aw.message([aw.text("c")], use=aw.usage(input_tokens=1000, output_tokens=100)))
    anthropic.Anthropic(base_url=live.url, api_key=MASTER_KEY, max_retries=0).messages.create(
        model=VIA_ANTHROPIC, max_tokens=10, messages=[{"role": "user", "content": "x"}])
    time.sleep(0.5)  # the ledger writes every 50 ms
    mine = [e for e in entries(live, start_time=start) if e["kind"] == "completions"]
    admin = _admin(live)
    page = admin.admin.organization.usage.completions(start_time=start, bucket_width="1d", group_by=["model"])
    assert page.object == "page" and len(page.data) == 1 and not page.has_more and page.next_page is None
    by_model = {r.model: r for r in page.data[0].results}
    for model in (VIA_OPENAI, VIA_ANTHROPIC):
        expected = [e for e in mine if e["model"] == model]
        assert by_model[model].input_tokens == sum(e["usage"]["input_tokens"] for e in expected)
        assert by_model[model].output_tokens == sum(e["usage"]["output_tokens"] for e in expected)
        assert by_model[model].num_model_requests == sum(e["num_model_requests"] for e in expected)
        assert by_model[model].project_id is None
    assert by_model[VIA_ANTHROPIC].input_tokens >= 1000

    minutes = admin.admin.organization.usage.completions(start_time=start - 120, end_time=start + 180,
                                                         bucket_width="1m", limit=2)
    assert [b.start_time for b in minutes.data] == [start - 120, start - 60] and minutes.has_more
    rest = admin.admin.organization.usage.completions(start_time=start - 120, end_time=start + 180,
                                                      bucket_width="1m", limit=2, page=minutes.next_page)
    assert [b.start_time for b in rest.data] == [start, start + 60]
    later = admin.admin.organization.usage.completions(start_time=start - 120, end_time=start + 180,
                                                       bucket_width="1m", limit=2, page=rest.next_page)
    assert [b.start_time for b in later.data] == [start + 120] and not later.has_more
    counted = sum(r.num_model_requests for p in (minutes, rest, later) for b in p.data for r in b.results)
    window = entries(live, start_time=start - 120, end_time=start + 180, kind="completions")
    assert counted == sum(e["num_model_requests"] for e in window)

    costs = admin.admin.organization.usage.costs(start_time=start, group_by=["project_id"])
    [result] = costs.data[0].results
    assert result.project_id == "proj_default" and result.amount.currency == "usd"
    every = entries(live, start_time=start)
    assert result.amount.value == pytest.approx(sum(e["cost"]["value"] for e in every))

    embeds = admin.admin.organization.usage.embeddings(start_time=start - 3600, bucket_width="1h", limit=2)
    made = entries(live, start_time=start - 3600, kind="embeddings")
    assert made and [r.input_tokens for b in embeds.data for r in b.results] == [
        sum(e["usage"]["input_tokens"] for e in made)]


@pytest.mark.parametrize(("params", "field"), [
    ({}, "start_time"), ({"start_time": "soon"}, "start_time"),
    ({"start_time": 0, "bucket_width": "1w"}, "bucket_width"), ({"start_time": 0, "group_by": "colour"}, "group_by"),
    ({"start_time": 0, "bucket_width": "1d", "limit": 32}, "limit"), ({"start_time": 0, "page": "page_!!"}, "page"),
])
def test_bad_usage_queries_name_the_field(live, params: dict[str, Any], field: str) -> None:
    answer = httpx.get(live.url + "/v1/organization/usage/completions", params=params, headers=ADMIN)
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"]["param"] == field


async def test_the_usage_endpoints_refuse_project_keys(live) -> None:
    db = Database(f"sqlite+aiosqlite:///{live.workdir / 'data' / 'switchyard.db'}")
    await db.start()
    try:
        _, secret = await ApiKeyRepository(db).create("proj_other", "project key")
    finally:
        await db.aclose()
    async with httpx.AsyncClient(base_url=live.url, headers={"authorization": f"Bearer {secret}"}) as project:
        for path in ("/v1/organization/costs", "/v1/organization/usage/completions", "/v1/organization/requests"):
            answer = await project.get(path, params={"start_time": 0})
            assert answer.status_code == 403, answer.text
            assert answer.json()["error"]["code"] == "insufficient_permissions"


def test_the_usage_endpoints_need_a_key(live) -> None:
    answer = httpx.get(live.url + "/v1/organization/costs", params={"start_time": 0})
    assert answer.status_code == 401 and answer.json()["error"]["code"] == "missing_api_key"
