"""What an operator sees: /metrics (parsed with prometheus_client's own parser), one JSON
log line per request carrying the id the client got, and GenAI spans received by a real
OTLP/HTTP collector on loopback."""

from __future__ import annotations

import gzip
import json
import os
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import anthropic
import httpx
import openai
import orjson
import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status
from prometheus_client.parser import text_string_to_metric_families
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect as connect_socket

from switchyard.gateway.auth import MASTER_OWNER
from tests.conftest import VIA_ANTHROPIC, VIA_OPENAI, upstream_models
from tests.fakes import anthropic_wire as aw
from tests.fakes import openai_wire as ow
from tests.fakes.loopback import free_port
from tests.fakes.upstream import FakeUpstream
from tests.server import MASTER_KEY, LiveServer

SERVER, CLIENT = Span.SpanKind.SPAN_KIND_SERVER, Span.SpanKind.SPAN_KIND_CLIENT


class Collector:
    """An OTLP/HTTP trace receiver: decodes each export and keeps every span's attributes."""

    def __init__(self) -> None:
        self.spans: list[dict[str, Any]] = []
        self.port = free_port()
        collector = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["content-length"]))
                if self.headers.get("content-encoding") == "gzip":
                    body = gzip.decompress(body)
                export = ExportTraceServiceRequest.FromString(body)
                for resource_spans in export.resource_spans:
                    service = {a.key: a.value for a in resource_spans.resource.attributes}
                    for scope_spans in resource_spans.scope_spans:
                        for span in scope_spans.spans:
                            collector.spans.append({"name": span.name, "path": self.path, "kind": span.kind,
                                                    "service": service["service.name"].string_value,
                                                    "trace_id": span.trace_id.hex(), "span_id": span.span_id.hex(),
                                                    "parent_span_id": span.parent_span_id.hex(),
                                                    "status_code": span.status.code,
                                                    **{a.key: _value(a.value) for a in span.attributes}})
                answer = ExportTraceServiceResponse().SerializeToString()
                self.send_response(200)
                self.send_header("content-type", "application/x-protobuf")
                self.send_header("content-length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args: Any) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def span_of(self, request_id: str, kind: int = CLIENT) -> dict[str, Any]:
        """The request's model-call span (CLIENT), or its HTTP span (SERVER)."""
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            found = [s for s in self.spans if s.get("switchyard.request_id") == request_id and s["kind"] == kind]
            if found:
                return found[0]
            time.sleep(0.05)
        raise AssertionError(f"no span for {request_id}; got {self.spans}")

    def stop(self) -> None:
        self.server.shutdown()


def _value(value: Any) -> Any:
    kind = value.WhichOneof("value")
    if kind == "array_value":
        return [_value(v) for v in value.array_value.values]
    return getattr(value, kind)


@pytest.fixture(scope="module")
def collector() -> Iterator[Collector]:
    running = Collector()
    yield running
    running.stop()


@pytest.fixture(scope="module")
def observed(tmp_path_factory: pytest.TempPathFactory, fake_openai: FakeUpstream, fake_anthropic: FakeUpstream,
             collector: Collector) -> Iterator[LiveServer]:
    models = upstream_models(fake_openai, fake_anthropic)
    models[0]["price"] = {"input_per_mtok": "1000", "output_per_mtok": "2000"}  # VIA_OPENAI: 0.025 USD a call
    live = LiveServer(tmp_path_factory.mktemp("observed"), models,
                      log_format="json", otlp_endpoint=f"http://127.0.0.1:{collector.port}",
                      rate_limits={"default_key_limits": {"tokens_per_minute": 100_000}})
    os.environ["OTEL_BSP_SCHEDULE_DELAY"] = "100"  # the exporter sends spans within 0.1 s
    try:
        live.start()
    finally:
        del os.environ["OTEL_BSP_SCHEDULE_DELAY"]
    yield live
    live.stop()


def scrape(server: LiveServer) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = httpx.get(server.url + "/metrics", headers={"authorization": f"Bearer {MASTER_KEY}"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    samples: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def oai(server: LiveServer) -> openai.OpenAI:
    return openai.OpenAI(base_url=server.url + "/v1", api_key=MASTER_KEY, max_retries=0, timeout=60)


def test_metrics_need_an_admin_key(observed: LiveServer) -> None:
    anonymous = httpx.get(observed.url + "/metrics")
    assert anonymous.status_code == 401
    assert anonymous.json()["error"]["code"] == "missing_api_key"


def test_metrics_count_what_was_served(observed: LiveServer, fake_openai: FakeUpstream,
                                       fake_anthropic: FakeUpstream) -> None:
    before = scrape(observed)
    fake_openai.script(ow.completion("one"), ow.stream(["t", "wo"]), ow.error(500, "upstream broke", "server_error"))
    fake_anthropic.script(aw.message([aw.text("three")]))
    client = oai(observed)
    client.chat.completions.create(model=VIA_OPENAI, messages=[{"role": "user", "content": "1"}])
    list(client.chat.completions.create(model=VIA_OPENAI, messages=[{"role": "user", "content": "2"}], stream=True,
                                        stream_options={"include_usage": True}))
    with pytest.raises(openai.APIStatusError):
        client.chat.completions.create(model=VIA_OPENAI, messages=[{"role": "user", "content": "3"}])
    with pytest.raises(openai.RateLimitError):
        client.chat.completions.create(model=VIA_OPENAI, max_tokens=200_000,
                                       messages=[{"role": "user", "content": "x"}])
    claude = anthropic.Anthropic(base_url=observed.url, api_key=MASTER_KEY, max_retries=0)
    claude.messages.create(model=VIA_ANTHROPIC, max_tokens=50, messages=[{"role": "user", "content": "4"}])
    after = scrape(observed)

    def delta(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert delta("switchyard_requests_total", surface="openai.chat", model=VIA_OPENAI, status="200") == 2
    assert delta("switchyard_requests_total", surface="openai.chat", model=VIA_OPENAI, status="429") == 1
    assert delta("switchyard_requests_total", surface="anthropic.messages", model=VIA_ANTHROPIC, status="200") == 1
    assert delta("switchyard_request_duration_seconds_count", surface="openai.chat", model=VIA_OPENAI) == 4
    assert delta("switchyard_tokens_total", model=VIA_OPENAI, kind="input") == 22  # 11 per answered call
    assert delta("switchyard_tokens_total", model=VIA_OPENAI, kind="output") == 14
    assert delta("switchyard_tokens_total", model=VIA_ANTHROPIC, kind="output") == 6
    assert delta("switchyard_time_to_first_token_seconds_count", model=VIA_OPENAI) == 2
    assert delta("switchyard_upstream_errors_total", deployment=VIA_OPENAI, kind="upstream") == 1
    assert delta("switchyard_cost_usd_total", model=VIA_OPENAI) == pytest.approx(0.05)  # 11 in + 7 out, twice
    assert delta("switchyard_rate_limit_rejections_total", level="key", reason="tokens") == 1
    assert ("switchyard_background_queue_depth", ()) in after
    assert value(after, "switchyard_requests_in_flight") == 0


def access_lines(server: LiveServer) -> list[dict[str, Any]]:
    lines = []
    for raw in server.log_path.read_text().splitlines():
        if raw.startswith("{"):
            line = orjson.loads(raw)
            if line["logger"] == "switchyard.access":
                lines.append(line)
    return lines


def wait_for_line(server: LiveServer, request_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        found = [line for line in access_lines(server) if line["request_id"] == request_id]
        if found:
            return found[0]
        time.sleep(0.05)
    raise AssertionError(f"no log line for {request_id}")


def test_json_log_line_carries_the_request_id_the_client_got(observed: LiveServer, fake_openai: FakeUpstream,
                                                             fake_anthropic: FakeUpstream) -> None:
    fake_openai.script(ow.completion("logged"))
    raw = oai(observed).chat.completions.with_raw_response.create(
        model=VIA_OPENAI, messages=[{"role": "user", "content": "hi"}])
    request_id = raw.headers["x-request-id"]
    assert raw.parse().choices[0].message.content == "logged"
    line = wait_for_line(observed, request_id)
    assert line["level"] == "info" and line["status"] == 200 and line["method"] == "POST"
    assert line["path"] == "/v1/chat/completions" and line["surface"] == "openai.chat"
    assert line["model"] == VIA_OPENAI and line["project_id"] == MASTER_OWNER
    assert (line["input_tokens"], line["output_tokens"]) == (11, 7)
    assert line["latency_ms"] > 0

    fake_anthropic.script(aw.message([aw.text("hi")]))
    claude = anthropic.Anthropic(base_url=observed.url, api_key=MASTER_KEY, max_retries=0)
    message = claude.messages.with_raw_response.create(model=VIA_ANTHROPIC, max_tokens=20,
                                                       messages=[{"role": "user", "content": "hi"}])
    assert "x-request-id" not in message.headers
    assert wait_for_line(observed, message.headers["request-id"])["surface"] == "anthropic.messages"

    refused = httpx.post(observed.url + "/v1/chat/completions", json={"model": VIA_OPENAI},
                         headers={"authorization": "Bearer wrong"})
    assert refused.status_code == 401
    assert wait_for_line(observed, refused.headers["x-request-id"])["status"] == 401


def test_a_sane_client_request_id_is_kept_and_an_odd_one_replaced(observed: LiveServer) -> None:
    headers = {"authorization": f"Bearer {MASTER_KEY}"}
    kept = httpx.get(observed.url + "/v1/models", headers={**headers, "x-request-id": "trace-4f2a-0001"})
    assert kept.headers["x-request-id"] == "trace-4f2a-0001"
    assert wait_for_line(observed, "trace-4f2a-0001")["surface"] == "openai.models"
    odd = httpx.get(observed.url + "/v1/models", headers={**headers, "x-request-id": "a b\"}{injected"})
    assert odd.headers["x-request-id"].startswith("req_")


def test_model_calls_are_exported_as_genai_spans(observed: LiveServer, collector: Collector,
                                                 fake_openai: FakeUpstream, fake_anthropic: FakeUpstream) -> None:
    fake_openai.script(ow.completion("spanned"))
    raw = oai(observed).chat.completions.with_raw_response.create(
        model=VIA_OPENAI, max_tokens=64, temperature=0.5, messages=[{"role": "user", "content": "hi"}])
    span = collector.span_of(raw.headers["x-request-id"])
    assert span["name"] == f"chat {VIA_OPENAI}" and span["path"] == "/v1/traces"
    assert span["service"] == "switchyard"
    assert span["gen_ai.operation.name"] == "chat"
    assert span["gen_ai.provider.name"] == "openai"
    assert span["gen_ai.request.model"] == VIA_OPENAI
    assert span["gen_ai.response.model"] == "gpt-upstream"
    assert span["gen_ai.request.max_tokens"] == 64 and span["gen_ai.request.temperature"] == 0.5
    assert (span["gen_ai.usage.input_tokens"], span["gen_ai.usage.output_tokens"]) == (11, 7)
    assert span["gen_ai.response.finish_reasons"] == ["stop"]

    fake_anthropic.script(aw.error(529, "overloaded_error", "Overloaded"))
    claude = anthropic.Anthropic(base_url=observed.url, api_key=MASTER_KEY, max_retries=0)
    with pytest.raises(anthropic.APIStatusError) as caught:
        claude.messages.create(model=VIA_ANTHROPIC, max_tokens=20, messages=[{"role": "user", "content": "hi"}])
    failed = collector.span_of(caught.value.response.headers["request-id"])
    assert failed["gen_ai.provider.name"] == "anthropic"
    assert failed["error.type"] in ("overloaded", "upstream")


def test_each_request_has_a_server_span_parent_of_its_model_spans(observed: LiveServer, collector: Collector,
                                                                  fake_openai: FakeUpstream,
                                                                  fake_anthropic: FakeUpstream) -> None:
    fake_openai.script(ow.stream(["in ", "a trace"]))
    client_trace, client_span = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
    raw = oai(observed).chat.completions.with_raw_response.create(
        model=VIA_OPENAI, stream=True, messages=[{"role": "user", "content": "hi"}],
        extra_headers={"traceparent": f"00-{client_trace}-{client_span}-01"})
    assert "".join(c.choices[0].delta.content or "" for c in raw.parse() if c.choices) == "in a trace"
    request_id = raw.headers["x-request-id"]
    server, model = collector.span_of(request_id, SERVER), collector.span_of(request_id)
    assert server["name"] == "POST /v1/chat/completions" and server["http.route"] == "/v1/chat/completions"
    assert (server["http.request.method"], server["http.response.status_code"]) == ("POST", 200)
    assert server["status_code"] == Status.StatusCode.STATUS_CODE_UNSET
    assert (server["trace_id"], server["parent_span_id"]) == (client_trace, client_span)  # joins the caller's trace
    assert (model["trace_id"], model["parent_span_id"]) == (client_trace, server["span_id"])

    fake_anthropic.script(aw.error(500, "api_error", "broken"))
    claude = anthropic.Anthropic(base_url=observed.url, api_key=MASTER_KEY, max_retries=0)
    with pytest.raises(anthropic.InternalServerError) as caught:
        claude.messages.create(model=VIA_ANTHROPIC, max_tokens=20, messages=[{"role": "user", "content": "hi"}])
    request_id = caught.value.response.headers["request-id"]
    server, model = collector.span_of(request_id, SERVER), collector.span_of(request_id)
    assert server["name"] == "POST /v1/messages" and server["http.response.status_code"] >= 500
    assert server["status_code"] == Status.StatusCode.STATUS_CODE_ERROR and server["error.type"] == str(
        server["http.response.status_code"])
    assert model["parent_span_id"] == server["span_id"] and model["trace_id"] == server["trace_id"]
    assert len(server["trace_id"]) == 32 and server["parent_span_id"] == ""  # a trace of its own

    missing = httpx.get(observed.url + "/v1/responses/resp_nothing_here",
                        headers={"authorization": f"Bearer {MASTER_KEY}"})
    assert missing.status_code == 404
    span = collector.span_of(missing.headers["x-request-id"], SERVER)
    assert span["name"] == "GET /v1/responses/{response_id}" and span["http.route"] == "/v1/responses/{response_id}"
    assert span["http.response.status_code"] == 404 and span["status_code"] == Status.StatusCode.STATUS_CODE_UNSET


def _spans(collector: Collector, count: int, **match: Any) -> list[dict[str, Any]]:
    """The first ``count`` spans whose fields are ``match`` (waiting for the exporter)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        found = [s for s in list(collector.spans) if all(s.get(k) == v for k, v in match.items())]
        if len(found) >= count:
            return found
        time.sleep(0.05)
    raise AssertionError(f"fewer than {count} spans with {match}; got {collector.spans}")


def _socket_url(server: LiveServer, path: str) -> str:
    return server.url.replace("http://", "ws://") + path


def test_a_responses_websocket_has_a_server_span_parent_of_its_turns(observed: LiveServer, collector: Collector,
                                                                     fake_openai: FakeUpstream) -> None:
    fake_openai.script(ow.stream(["first ", "turn"]), ow.stream(["second ", "turn"]))
    client_trace, client_span = "5cf92f3577b34da6a3ce929d0e0e4737", "10f067aa0ba902b8"
    headers = {"authorization": f"Bearer {MASTER_KEY}", "traceparent": f"00-{client_trace}-{client_span}-01",
               "user-agent": "socket-test/1"}
    texts = []
    with connect_socket(_socket_url(observed, "/v1/responses"), additional_headers=headers) as ws:
        for prompt in ("one", "two"):
            ws.send(json.dumps({"type": "response.create", "model": VIA_OPENAI, "input": prompt}))
            events = [json.loads(ws.recv())]
            while events[-1]["type"] not in ("response.completed", "response.failed", "error"):
                events.append(json.loads(ws.recv()))
            texts.append("".join(e["delta"] for e in events if e["type"] == "response.output_text.delta"))
    assert texts == ["first turn", "second turn"]

    (server,) = _spans(collector, 1, trace_id=client_trace, kind=SERVER)
    assert server["name"] == "GET /v1/responses" and server["http.route"] == "/v1/responses"
    assert (server["http.request.method"], server["url.path"], server["url.scheme"]) == ("GET", "/v1/responses", "ws")
    assert server["http.response.status_code"] == 101 and server["user_agent.original"] == "socket-test/1"
    assert server["parent_span_id"] == client_span  # joins the caller's trace from the upgrade request
    assert server["switchyard.websocket.close_code"] == 1000
    assert server["status_code"] == Status.StatusCode.STATUS_CODE_UNSET
    models = _spans(collector, 2, trace_id=client_trace, kind=CLIENT)
    assert len(models) == 2 and {m["parent_span_id"] for m in models} == {server["span_id"]}
    assert [m["name"] for m in models] == [f"chat {VIA_OPENAI}"] * 2
    assert len({m["switchyard.request_id"] for m in models}) == 2  # each turn is a call of its own


def test_a_realtime_websocket_has_a_server_span_and_a_refused_one_too(observed: LiveServer, collector: Collector,
                                                                      fake_openai: FakeUpstream) -> None:
    fake_openai.script(ow.stream(["real", "time"]))
    headers = {"authorization": f"Bearer {MASTER_KEY}"}  # no traceparent: a trace of its own
    with connect_socket(_socket_url(observed, f"/v1/realtime?model={VIA_OPENAI}"), additional_headers=headers) as ws:
        assert json.loads(ws.recv())["type"] == "session.created"
        ws.send(json.dumps({"type": "session.update", "session": {"type": "realtime", "output_modalities": ["text"]}}))
        ws.send(json.dumps({"type": "conversation.item.create", "item": {
            "type": "message", "role": "user", "content": [{"type": "input_text", "text": "hi"}]}}))
        ws.send(json.dumps({"type": "response.create"}))
        while (event := json.loads(ws.recv()))["type"] != "response.done":
            assert event["type"] != "error", event
    (server,) = _spans(collector, 1, kind=SERVER, **{"http.route": "/v1/realtime"})
    assert server["name"] == "GET /v1/realtime" and server["http.response.status_code"] == 101
    assert server["parent_span_id"] == "" and len(server["trace_id"]) == 32
    assert server["status_code"] == Status.StatusCode.STATUS_CODE_UNSET and "error.type" not in server
    assert server["switchyard.websocket.close_code"] == 1000  # the client's normal close
    (model,) = _spans(collector, 1, kind=CLIENT, trace_id=server["trace_id"])
    assert model["parent_span_id"] == server["span_id"] and model["gen_ai.request.model"] == VIA_OPENAI

    refused_trace = "6cf92f3577b34da6a3ce929d0e0e4738"
    with pytest.raises(InvalidStatus) as caught:
        connect_socket(_socket_url(observed, "/v1/responses"), additional_headers={
            "authorization": "Bearer sk-not-a-key", "traceparent": f"00-{refused_trace}-20f067aa0ba902b9-01"})
    assert caught.value.response.status_code == 401
    (refused,) = _spans(collector, 1, kind=SERVER, trace_id=refused_trace)
    assert refused["http.response.status_code"] == 401 and refused["name"] == "GET /v1/responses"
    assert refused["status_code"] == Status.StatusCode.STATUS_CODE_UNSET  # the client's error, not the server's
    assert "switchyard.websocket.close_code" not in refused
