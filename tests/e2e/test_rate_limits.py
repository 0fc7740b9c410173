"""Rate limits through the official SDKs: held exactly by two server processes sharing the
real Redis and PostgreSQL (and by one process with the in-process limiter), with the
vendor's headers on refusals and on answers."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import anthropic
import httpx
import openai
import orjson
import pytest

from tests.conftest import VIA_ANTHROPIC, VIA_OPENAI, upstream_models
from tests.e2e.ledger import wait_new
from tests.fakes import anthropic_wire as aw
from tests.fakes import openai_wire as ow
from tests.fakes.loopback import free_port
from tests.fakes.mcp_server import start_mcp_server
from tests.fakes.upstream import FakeUpstream, Reply, Stream
from tests.pg import fresh_postgres_url
from tests.server import MASTER_KEY, LiveServer

REDIS_DB = 12
OPENAI_HEADERS = ("x-ratelimit-limit-requests", "x-ratelimit-remaining-requests", "x-ratelimit-reset-requests")

def embedding_model(fake: FakeUpstream) -> dict[str, Any]:
    return {"name": "embed-fake", "provider": "openai", "task": "embedding", "base_url": fake.url + "/v1",
            "api_key": "k", "model": "text-embedding-3-small", "timeout": 5}


Start = Callable[..., Awaitable[tuple[LiveServer, LiveServer]]]


@pytest.fixture(params=["redis", "memory"])
async def start_servers(request: pytest.FixtureRequest, tmp_path: Path, fake_openai: FakeUpstream,
                        fake_anthropic: FakeUpstream) -> AsyncIterator[Start]:
    """Starts two processes sharing Redis and one PostgreSQL database with the given
    ``rate_limits`` (``redis``), or one process limiting in memory, twice over (``memory``)."""
    started: list[LiveServer] = []
    async with contextlib.AsyncExitStack() as stack:

        async def start(rate_limits: dict[str, Any], **extra: Any) -> tuple[LiveServer, LiveServer]:
            models = [*upstream_models(fake_openai, fake_anthropic), embedding_model(fake_openai)]
            limits = {**rate_limits, "redis_prefix": f"test:{secrets.token_hex(6)}:"}
            settings: dict[str, Any] = {"rate_limits": limits, "stream_keepalive_seconds": 0.5, **extra}
            if request.param == "redis":
                database_url = await stack.enter_async_context(fresh_postgres_url())
                settings |= {"redis_url": f"redis://127.0.0.1:6379/{REDIS_DB}", "database_url": database_url}
            count = 2 if request.param == "redis" else 1
            for n in range(count):
                workdir = tmp_path / f"server{n}"
                workdir.mkdir()
                server = LiveServer(workdir, models, **settings)
                server.start()
                started.append(server)
            return started[0], started[-1]

        try:
            yield start
        finally:
            for server in started:
                server.stop()


def client(server: LiveServer) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(base_url=server.url + "/v1", api_key=MASTER_KEY, max_retries=0, timeout=60)


async def chat(server: LiveServer, **extra: Any) -> httpx.Response:
    """One Chat Completions call; the raw HTTP answer, refused or not."""
    async with client(server) as sdk:
        return await chat_with(sdk, **extra)


async def chat_with(sdk: openai.AsyncOpenAI, **extra: Any) -> httpx.Response:
    try:
        raw = await sdk.chat.completions.with_raw_response.create(
            model=VIA_OPENAI, messages=[{"role": "user", "content": "hi"}], **extra)
        raw.parse()
        return raw.http_response
    except openai.APIStatusError as error:
        return error.response


def assert_refused(response: httpx.Response, reason: str) -> None:
    assert response.status_code == 429, response.text
    error = response.json()["error"]
    assert error["code"] == "rate_limit_exceeded" and error["type"] == "rate_limit_error"
    assert reason in error["message"]
    assert int(response.headers["retry-after"]) >= 1
    assert response.headers["x-request-id"].startswith("req_")


async def test_requests_per_minute_hold_exactly_across_processes(start_servers: Start,
                                                                 fake_openai: FakeUpstream) -> None:
    a, b = await start_servers({"default_key_limits": {"requests_per_minute": 50}})
    fake_openai.script(*[ow.completion("ok") for _ in range(50)])
    gate = asyncio.Semaphore(24)
    clients = [client(a), client(b)]

    async def one(i: int) -> httpx.Response:
        async with gate:
            return await chat_with(clients[i % 2])

    answers = await asyncio.gather(*[one(i) for i in range(200)])
    for sdk in clients:
        await sdk.close()
    ok = [r for r in answers if r.status_code == 200]
    refused = [r for r in answers if r.status_code != 200]
    assert len(ok) == 50 and len(refused) == 150
    assert len(fake_openai.received) == 50  # a refused call never reaches the upstream
    for response in refused:
        assert_refused(response, "requests per minute")
        assert response.headers["x-ratelimit-limit-requests"] == "50"
        assert response.headers["x-ratelimit-remaining-requests"] == "0"
        assert response.headers["x-ratelimit-reset-requests"].endswith("s")
    remaining = sorted(int(r.headers["x-ratelimit-remaining-requests"]) for r in ok)
    assert remaining == list(range(50))  # every admitted call saw its own place in the window
    assert all(r.json()["choices"][0]["message"]["content"] == "ok" for r in ok)
    recorded = wait_new(a, None, 200)  # every request has its entry, refused ones included
    outcomes = sorted((e["outcome"], e["error_code"], e["num_model_requests"], e["status"]) for e in recorded)
    assert outcomes == [("completed", None, 1, 200)] * 50 + [("rate_limited", "rate_limit_exceeded", 0, 429)] * 150
    ids = {r.headers["x-request-id"] for r in answers}
    assert {e["request_id"] for e in recorded} == ids


async def test_tokens_per_minute_reserve_then_settle_to_real_usage(start_servers: Start,
                                                                   fake_openai: FakeUpstream) -> None:
    limit, used = 600, 18  # ow.completion reports 11 prompt + 7 completion tokens
    a, b = await start_servers({"default_key_limits": {"tokens_per_minute": limit}})
    fake_openai.script(*[ow.completion("ok") for _ in range(60)])
    first = await chat(a, max_tokens=200)
    assert first.status_code == 200
    assert first.headers["x-ratelimit-limit-tokens"] == str(limit)
    estimate = limit - int(first.headers["x-ratelimit-remaining-tokens"])
    assert 200 < estimate < 220  # the prompt (counted cheaply) plus max_tokens
    admitted = 1
    while True:
        answer = await chat(b if admitted % 2 else a, max_tokens=200)
        if answer.status_code != 200:
            break
        admitted += 1
    # Each finished call holds its real 18 tokens, not the estimate: without settling only
    # limit // estimate (2) calls would have fitted.
    assert admitted == (limit - estimate) // used + 1
    assert_refused(answer, "tokens per minute")
    assert answer.headers["x-ratelimit-remaining-tokens"] == str(limit - used * admitted)
    too_large = await chat(a, max_tokens=limit + 1)
    assert_refused(too_large, "Request too large")


def held_stream() -> Stream:
    """An upstream stream that sends its first chunks, then stays open."""
    return Stream(ow.stream(["held"]).frames[:2], hang=120)


async def open_stream(http: httpx.AsyncClient, server: LiveServer) -> httpx.Response:
    request = http.build_request(
        "POST", server.url + "/v1/chat/completions", headers={"authorization": f"Bearer {MASTER_KEY}"},
        json={"model": VIA_OPENAI, "stream": True, "messages": [{"role": "user", "content": "hold"}]})
    return await http.send(request, stream=True)


async def admitted_again(server: LiveServer, fake_openai: FakeUpstream) -> httpx.Response:
    """Retries until a call is admitted (a released slot frees asynchronously on the server)."""
    for _ in range(300):
        fake_openai.script(ow.completion("admitted"))
        answer = await chat(server)
        if answer.status_code == 200:
            return answer
        fake_openai.scripts.clear()
        assert_refused(answer, "concurrent requests")
        await asyncio.sleep(0.1)
    raise AssertionError("never admitted again")


async def test_concurrent_requests_hold_across_processes_and_free_on_release(
        start_servers: Start, fake_openai: FakeUpstream) -> None:
    a, b = await start_servers({"default_project_limits": {"max_concurrent_requests": 2}})
    fake_openai.script(held_stream(), held_stream())
    async with httpx.AsyncClient(timeout=60) as http:
        first = await open_stream(http, a)
        second = await open_stream(http, b)
        assert first.status_code == 200 and second.status_code == 200
        chunks = first.aiter_text()  # kept: a dropped iterator closes the response
        assert "chat.completion.chunk" in await anext(chunks)
        third = await chat(a)
        assert_refused(third, "concurrent requests")
        assert_refused(await chat(b), "concurrent requests")
        await first.aclose()  # the client leaves: its slot is released
        answer = await admitted_again(b, fake_openai)
        assert answer.json()["choices"][0]["message"]["content"] == "admitted"
        await second.aclose()


async def test_headers_on_answers_streamed_or_not(start_servers: Start, fake_openai: FakeUpstream) -> None:
    a, _ = await start_servers({"default_key_limits": {"requests_per_minute": 10, "tokens_per_minute": 100_000}})
    fake_openai.script(ow.completion("whole"), ow.stream(["str", "eamed"]))
    whole = await chat(a)
    assert whole.status_code == 200
    assert {h: whole.headers[h] for h in OPENAI_HEADERS} == {
        "x-ratelimit-limit-requests": "10", "x-ratelimit-remaining-requests": "9",
        "x-ratelimit-reset-requests": "1m0s"}
    assert whole.headers["x-ratelimit-limit-tokens"] == "100000"
    async with client(a) as sdk:
        raw = await sdk.chat.completions.with_raw_response.create(
            model=VIA_OPENAI, messages=[{"role": "user", "content": "hi"}], stream=True)
        assert raw.headers["x-ratelimit-remaining-requests"] == "8"
        assert raw.headers["x-ratelimit-limit-tokens"] == "100000"
        text = "".join([c.choices[0].delta.content or "" async for c in raw.parse() if c.choices])
    assert text == "streamed"


async def test_anthropic_surface_headers_and_refusal(start_servers: Start, fake_anthropic: FakeUpstream) -> None:
    a, b = await start_servers({"default_key_limits": {"requests_per_minute": 2, "tokens_per_minute": 50_000}})
    fake_anthropic.script(aw.message([aw.text("one")]), aw.stream([aw.text("two")]))
    claude = anthropic.AsyncAnthropic(base_url=a.url, api_key=MASTER_KEY, max_retries=0)
    raw = await claude.messages.with_raw_response.create(
        model=VIA_ANTHROPIC, max_tokens=100, messages=[{"role": "user", "content": "hi"}])
    assert (await raw.parse()).content[0].text == "one"  # type: ignore[union-attr]
    assert raw.headers["anthropic-ratelimit-requests-limit"] == "2"
    assert raw.headers["anthropic-ratelimit-requests-remaining"] == "1"
    assert raw.headers["anthropic-ratelimit-requests-reset"].endswith("Z")
    assert raw.headers["anthropic-ratelimit-tokens-limit"] == "50000"
    remaining = int(raw.headers["anthropic-ratelimit-tokens-remaining"])
    assert 50_000 - 100 - 20 < remaining < 50_000 - 100  # max_tokens and the prompt's estimate are reserved
    for kind in ("input-tokens", "output-tokens"):  # one tokens-per-minute limit counts both
        assert raw.headers[f"anthropic-ratelimit-{kind}-limit"] == "50000"
        assert raw.headers[f"anthropic-ratelimit-{kind}-remaining"] == str(remaining)
        assert raw.headers[f"anthropic-ratelimit-{kind}-reset"] == raw.headers["anthropic-ratelimit-tokens-reset"]
    assert raw.headers["request-id"].startswith("req_")
    assert "x-ratelimit-limit-requests" not in raw.headers
    streamed = await claude.messages.with_raw_response.create(
        model=VIA_ANTHROPIC, max_tokens=100, messages=[{"role": "user", "content": "hi"}], stream=True)
    assert streamed.headers["anthropic-ratelimit-requests-remaining"] == "0"
    events = [e async for e in await streamed.parse()]
    assert events[-1].type == "message_stop"
    other = anthropic.AsyncAnthropic(base_url=b.url, api_key=MASTER_KEY, max_retries=0)
    with pytest.raises(anthropic.RateLimitError) as caught:
        await other.messages.create(model=VIA_ANTHROPIC, max_tokens=100, messages=[{"role": "user", "content": "x"}])
    response = caught.value.response
    assert response.json()["type"] == "error"
    assert response.json()["error"]["type"] == "rate_limit_error"
    assert response.headers["anthropic-ratelimit-requests-remaining"] == "0"
    assert int(response.headers["retry-after"]) >= 1
    assert caught.value.request_id == response.headers["request-id"] == response.json()["request_id"]
    await claude.close()
    await other.close()


@pytest.mark.postgres
async def test_slots_of_a_killed_process_free_themselves(tmp_path: Path, fake_openai: FakeUpstream,
                                                         fake_anthropic: FakeUpstream) -> None:
    settings = {"redis_url": f"redis://127.0.0.1:6379/{REDIS_DB}",
                "rate_limits": {"default_key_limits": {"max_concurrent_requests": 1}, "lease_seconds": 3,
                                "redis_prefix": f"test:{secrets.token_hex(6)}:"}}
    async with fresh_postgres_url() as database_url:
        for name in ("doomed", "survivor"):
            (tmp_path / name).mkdir()
        servers = [LiveServer(tmp_path / name, upstream_models(fake_openai, fake_anthropic),
                              database_url=database_url, **settings) for name in ("doomed", "survivor")]
        for server in servers:
            server.start()
        doomed, survivor = servers
        try:
            fake_openai.script(held_stream())
            async with httpx.AsyncClient(timeout=60) as http:
                held = await open_stream(http, doomed)
                assert held.status_code == 200
                assert_refused(await chat(survivor), "concurrent requests")
                assert doomed.process is not None
                doomed.process.kill()  # no chance to release anything
                doomed.process.wait()
                doomed.process = None
                with contextlib.suppress(httpx.HTTPError):
                    await held.aclose()
            answer = await admitted_again(survivor, fake_openai)
            assert answer.json()["choices"][0]["message"]["content"] == "admitted"
        finally:
            for server in servers:
                server.stop()


async def test_a_responses_tool_loop_is_one_request(start_servers: Start, fake_openai: FakeUpstream) -> None:
    a, b = await start_servers({"default_key_limits": {"requests_per_minute": 1}}, egress_allowlist=["127.0.0.1"])
    url, stop = start_mcp_server(token="mcp-secret")
    try:
        fake_openai.script(ow.completion(None, tool_calls=[("call_a", "add", '{"a": 2, "b": 3}')],
                                         finish_reason="tool_calls"),
                           ow.completion("2 + 3 = 5"))
        tool = {"type": "mcp", "server_label": "calc", "server_url": url, "require_approval": "never",
                "headers": {"Authorization": "Bearer mcp-secret"}}
        async with client(a) as sdk:
            raw = await sdk.responses.with_raw_response.create(model=VIA_OPENAI, input="2+3?", tools=[tool])
            assert raw.parse().output_text == "2 + 3 = 5"
            assert raw.headers["x-ratelimit-remaining-requests"] == "0"
        assert len(fake_openai.received) == 2  # two model turns, admitted as one request
        async with client(b) as sdk:
            with pytest.raises(openai.RateLimitError) as caught:
                await sdk.responses.create(model=VIA_OPENAI, input="again", stream=True)
        assert_refused(caught.value.response, "requests per minute")
        assert len(fake_openai.received) == 2
    finally:
        stop()


async def test_each_websocket_response_is_one_request(start_servers: Start, fake_openai: FakeUpstream) -> None:
    a, _ = await start_servers({"default_key_limits": {"requests_per_minute": 2}})
    fake_openai.script(ow.stream(["one"]), ow.stream(["two"]))

    def over_one_socket() -> list[dict[str, Any]]:
        sdk = openai.OpenAI(base_url=a.url + "/v1", api_key=MASTER_KEY, max_retries=0)
        events: list[dict[str, Any]] = []
        with sdk.responses.connect() as connection:
            for n in range(3):
                connection.send({"type": "response.create", "model": VIA_OPENAI, "input": f"turn {n}"})
                while True:
                    event = orjson.loads(connection.recv_bytes())
                    events.append(event)
                    if event["type"] in ("response.completed", "response.failed", "error"):
                        break
        return events

    events = await asyncio.to_thread(over_one_socket)
    ends = [e for e in events if e["type"] in ("response.completed", "response.failed", "error")]
    assert [e["type"] for e in ends] == ["response.completed", "response.completed", "error"]
    assert ends[2]["status"] == 429 and ends[2]["error"]["code"] == "rate_limit_exceeded"
    assert "requests per minute" in ends[2]["error"]["message"]
    assert len(fake_openai.received) == 2


async def test_embeddings_count_as_requests_and_settle_their_tokens(start_servers: Start,
                                                                     fake_openai: FakeUpstream) -> None:
    a, b = await start_servers({"default_key_limits": {"requests_per_minute": 2, "tokens_per_minute": 1000}})
    vectors = {"object": "list", "model": "text-embedding-3-small", "usage": {"prompt_tokens": 9, "total_tokens": 9},
               "data": [{"object": "embedding", "index": 0, "embedding": [0.5, 0.5]}]}
    fake_openai.script(Reply(vectors), Reply(vectors))
    async with client(a) as sdk:
        raw = await sdk.embeddings.with_raw_response.create(model="embed-fake", input="x" * 400)
        assert raw.headers["x-ratelimit-remaining-requests"] == "1"
        assert raw.headers["x-ratelimit-remaining-tokens"] == str(1000 - 101)  # the estimate, reserved
        assert raw.parse().data[0].embedding == [0.5, 0.5]
    async with client(b) as sdk:
        raw = await sdk.embeddings.with_raw_response.create(model="embed-fake", input="short")
        assert raw.headers["x-ratelimit-remaining-tokens"] == str(1000 - 9 - 2)  # the first settled to 9
        with pytest.raises(openai.RateLimitError) as caught:
            await sdk.embeddings.create(model="embed-fake", input="third")
    assert_refused(caught.value.response, "requests per minute")


async def test_an_unreachable_redis_admits_calls_unchecked(tmp_path: Path, fake_openai: FakeUpstream,
                                                            fake_anthropic: FakeUpstream) -> None:
    closed_port = free_port()  # nothing listens there
    server = LiveServer(tmp_path, upstream_models(fake_openai, fake_anthropic),
                        redis_url=f"redis://127.0.0.1:{closed_port}/0",
                        rate_limits={"default_key_limits": {"requests_per_minute": 1}})
    server.start()
    try:
        fake_openai.script(ow.completion("one"), ow.completion("two"))
        answers = [await chat(server), await chat(server)]
        assert [a.json()["choices"][0]["message"]["content"] for a in answers] == ["one", "two"]
        assert "x-ratelimit-limit-requests" not in answers[0].headers
        assert "rate limits unavailable" in server.log_path.read_text()
    finally:
        server.stop()


async def test_limits_set_through_the_administration_api(tmp_path: Path, fake_openai: FakeUpstream,
                                                         fake_anthropic: FakeUpstream) -> None:
    server = LiveServer(tmp_path, upstream_models(fake_openai, fake_anthropic))
    server.start()
    admin = {"authorization": f"Bearer {MASTER_KEY}"}
    try:
        async with httpx.AsyncClient(base_url=server.url + "/v1/organization", headers=admin) as http:
            project = (await http.post("/projects", json={"name": "limited"})).json()
            keys = "/projects/" + project["id"] + "/api_keys"
            capped = (await http.post(keys, json={"name": "capped", "max_requests_per_1_minute": 2})).json()
            free = (await http.post(keys, json={"name": "free"})).json()
            limit = await http.post(f"/projects/{project['id']}/rate_limits/rl-{VIA_ANTHROPIC}",
                                    json={"max_requests_per_1_minute": 1})
            assert limit.status_code == 200, limit.text
        fake_openai.script(ow.completion("a"), ow.completion("b"))
        async with openai.AsyncOpenAI(base_url=server.url + "/v1", api_key=capped["value"], max_retries=0) as sdk:
            answers = [await chat_with(sdk) for _ in range(3)]
        assert [a.status_code for a in answers] == [200, 200, 429]
        assert [a.headers["x-ratelimit-remaining-requests"] for a in answers] == ["1", "0", "0"]
        assert_refused(answers[2], "on key:" + capped["id"])
        fake_anthropic.script(aw.message([aw.text("one")]))
        claude = anthropic.AsyncAnthropic(base_url=server.url, api_key=free["value"], max_retries=0)
        first = await claude.messages.with_raw_response.create(
            model=VIA_ANTHROPIC, max_tokens=20, messages=[{"role": "user", "content": "hi"}])
        assert first.headers["anthropic-ratelimit-requests-remaining"] == "0"
        with pytest.raises(anthropic.RateLimitError) as caught:
            await claude.messages.create(model=VIA_ANTHROPIC, max_tokens=20,
                                         messages=[{"role": "user", "content": "x"}])
        assert f"project-model:{project['id']}:{VIA_ANTHROPIC}" in caught.value.message
        await claude.close()
    finally:
        server.stop()
