"""A non-streaming request whose client hangs up stops its work: on an upstream the
request to it is closed (the scripted upstream sees its client go), and on the
embedded model generation stops (its counter of generated tokens stops short).
Background responses are the exception: the client asked for them to be kept."""

from __future__ import annotations

import socket
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import orjson
import pytest
import uvicorn

from switchyard.app import create_app
from switchyard.config import ModelConfig, Settings
from tests.conftest import LOCAL, VIA_ANTHROPIC, VIA_OPENAI, upstream_models
from tests.fakes import anthropic_wire as aw
from tests.fakes import openai_wire as ow
from tests.fakes.loopback import free_port
from tests.fakes.upstream import FakeUpstream, Reply
from tests.server import MASTER_KEY, LiveServer

HOLD = 120.0  # how long a scripted upstream holds its answer back: far past any wait below
WAIT = 30.0  # how long a test waits for something that must happen


def _wait_for(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"never happened: {what}")
        time.sleep(0.02)


def _send(base_url: str, path: str, body: dict[str, Any]) -> socket.socket:
    """A non-streaming POST on a raw socket, so that the test decides when the client hangs up."""
    parts = urlsplit(base_url)
    sock = socket.create_connection((parts.hostname, parts.port))
    payload = orjson.dumps(body)
    head = (f"POST {path} HTTP/1.1\r\nHost: {parts.netloc}\r\nAuthorization: Bearer {MASTER_KEY}\r\n"
            f"anthropic-version: 2023-06-01\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(payload)}\r\n\r\n")
    sock.sendall(head.encode() + payload)
    return sock


def _stored_responses(server: LiveServer) -> int:
    with sqlite3.connect(server.workdir / "data" / "switchyard.db") as conn:
        return int(conn.execute("SELECT count(*) FROM responses").fetchone()[0])


@pytest.fixture(scope="module")
def patient_server(tmp_path_factory: pytest.TempPathFactory, fake_openai: FakeUpstream,
                   fake_anthropic: FakeUpstream) -> Iterator[LiveServer]:
    """Upstreams it waits on for minutes, so only the client leaving can end a held request."""
    models = [{**model, "timeout": 600} for model in upstream_models(fake_openai, fake_anthropic)]
    live = LiveServer(tmp_path_factory.mktemp("patient"), models)
    live.start(wait_ready=True, timeout=60)
    yield live
    live.stop()


CASES = [
    ("/v1/chat/completions", VIA_OPENAI, {"messages": [{"role": "user", "content": "hi"}]}, "openai"),
    ("/v1/completions", VIA_OPENAI, {"prompt": "hi"}, "openai"),
    ("/v1/responses", VIA_OPENAI, {"input": "hi"}, "openai"),
    ("/v1/responses", VIA_OPENAI, {"input": "hi", "store": True}, "openai"),
    ("/v1/messages", VIA_ANTHROPIC, {"max_tokens": 5, "messages": [{"role": "user", "content": "hi"}]},
     "anthropic"),
    ("/v1/messages", VIA_OPENAI, {"max_tokens": 5, "messages": [{"role": "user", "content": "hi"}]}, "openai"),
    ("/v1/chat/completions", VIA_ANTHROPIC, {"messages": [{"role": "user", "content": "hi"}]}, "anthropic"),
]


@pytest.mark.parametrize(("path", "model", "body", "vendor"), CASES,
                         ids=[f"{p}:{m}:{'store' if 'store' in b else ''}" for p, m, b, _ in CASES])
def test_client_leaving_closes_the_upstream_request(patient_server, fake_openai, fake_anthropic, path: str,
                                                    model: str, body: dict[str, Any], vendor: str) -> None:
    stored = _stored_responses(patient_server)
    fake = fake_openai if vendor == "openai" else fake_anthropic
    held = ow.stream(["never"]) if vendor == "openai" else aw.stream([aw.text("never")])
    held.hang = HOLD  # streamed upstream calls (the Responses loop streams) hang after their frames
    reply = ow.completion("never") if vendor == "openai" else aw.message([aw.text("never")])
    fake.script(Reply(reply.json, delay=HOLD) if path != "/v1/responses" else held)
    client = _send(patient_server.url, path, {"model": model, **body})
    _wait_for(lambda: len(fake.received) == 1, "the upstream got the request")
    client.close()
    _wait_for(lambda: fake.abandoned == [fake.received[0].path], "the upstream request was closed")
    assert _stored_responses(patient_server) == stored  # not even a store: true response is kept


def test_a_background_response_keeps_running_when_its_creator_leaves(patient_server, fake_openai) -> None:
    fake_openai.script(ow.stream(["kept ", "going"], delay=0.2))
    client = _send(patient_server.url, "/v1/responses", {"model": VIA_OPENAI, "input": "hi", "background": True})
    raw = b""
    while b"\r\n\r\n" not in raw or not raw.rstrip().endswith(b"}"):
        raw += client.recv(65536)
    response_id = orjson.loads(raw.split(b"\r\n\r\n", 1)[1])["id"]
    client.close()
    headers = {"authorization": f"Bearer {MASTER_KEY}"}

    def finished() -> bool:
        status = httpx.get(f"{patient_server.url}/v1/responses/{response_id}", headers=headers).json()["status"]
        return status not in ("queued", "in_progress")

    _wait_for(finished, "the background response finished")
    done = httpx.get(f"{patient_server.url}/v1/responses/{response_id}", headers=headers).json()
    assert done["status"] == "completed" and done["output"][0]["content"][0]["text"] == "kept going"
    assert fake_openai.abandoned == []


# --- the embedded model, served in this process so that its token counter can be read -----------


class InProcess:
    def __init__(self, url: str, app: Any) -> None:
        self.url = url
        self.app = app

    @property
    def tokens_generated(self) -> int:
        routed = self.app.state.services.models.resolve(LOCAL).provider
        return int(routed.deployments[0].provider.tokens_generated)


@pytest.fixture(scope="module")
def local_server(tmp_path_factory: pytest.TempPathFactory, model_path: Path) -> Iterator[InProcess]:
    port = free_port()
    settings = Settings(data_dir=tmp_path_factory.mktemp("disconnect-local"), master_key=MASTER_KEY, port=port,
                        models=[ModelConfig(name=LOCAL, provider="local", path=str(model_path),
                                            context_length=2048)])
    app = create_app(settings)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                           http="httptools", lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True, name="switchyard-in-process")
    thread.start()
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while True:
        try:
            if httpx.get(url + "/ready", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        assert time.monotonic() < deadline and thread.is_alive(), "in-process server did not get ready"
        time.sleep(0.1)
    yield InProcess(url, app)
    server.should_exit = True
    thread.join(timeout=30)


ESSAY = "Write a very long essay about the history of rivers, in many paragraphs."
LOCAL_CASES = [
    ("/v1/chat/completions", {"messages": [{"role": "user", "content": ESSAY}], "max_tokens": 400}),
    ("/v1/completions", {"prompt": ESSAY, "max_tokens": 400}),
    ("/v1/responses", {"input": ESSAY, "max_output_tokens": 400}),
    ("/v1/messages", {"messages": [{"role": "user", "content": ESSAY}], "max_tokens": 400}),
]


@pytest.mark.slow
@pytest.mark.parametrize(("path", "body"), LOCAL_CASES, ids=[p for p, _ in LOCAL_CASES])
def test_client_leaving_stops_the_embedded_model(local_server: InProcess, path: str, body: dict[str, Any]) -> None:
    before = local_server.tokens_generated
    client = _send(local_server.url, path, {"model": LOCAL, "temperature": 0, **body})
    _wait_for(lambda: local_server.tokens_generated - before >= 3, "the model started generating")
    client.close()
    # The model has one worker: this short request runs once the abandoned essay has let go of
    # it, which must be within a few tokens of the hang-up, far short of its 400.
    short = httpx.post(local_server.url + "/v1/chat/completions", timeout=120, headers={
        "authorization": f"Bearer {MASTER_KEY}"}, json={
        "model": LOCAL, "max_tokens": 4, "temperature": 0, "messages": [{"role": "user", "content": "Say yes."}]})
    assert short.status_code == 200, short.text
    assert local_server.tokens_generated - before < 60
