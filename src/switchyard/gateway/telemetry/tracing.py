"""OpenTelemetry spans, exported over OTLP/HTTP when ``otlp_endpoint`` is set: one server
span per HTTP request (the HTTP semantic conventions; it joins the client's trace when the
request carries a W3C ``traceparent``), the parent of a span per model call (the GenAI
semantic conventions); a WebSocket connection has one server span too, from the upgrade
request to the close, parent of the model spans of the calls made on it. The tracer provider
belongs to the app (it is not installed globally) and is flushed when the app stops."""

from __future__ import annotations

from collections.abc import Mapping

from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace import Span, SpanKind, Status, StatusCode, set_span_in_context
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from switchyard import __version__
from switchyard.gateway.telemetry.genai import AttributeValue
from switchyard.gateway.telemetry.socket_outcome import INTERNAL_ERROR, SocketOutcome

_PROPAGATOR = TraceContextTextMapPropagator()
def traces_url(endpoint: str) -> str:
    """``http://collector:4318`` or the full ``…/v1/traces`` URL."""
    endpoint = endpoint.rstrip("/")
    return endpoint if endpoint.endswith("/v1/traces") else endpoint + "/v1/traces"


class Tracing:
    def __init__(self, endpoint: str, service_name: str = "switchyard") -> None:
        resource = Resource.create({"service.name": service_name, "service.version": __version__})
        self._provider = TracerProvider(resource=resource)
        self._provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=traces_url(endpoint))))
        self._tracer = self._provider.get_tracer("switchyard", __version__)

    def start_server_span(self, method: str, path: str, headers: Mapping[str, str]) -> Span:
        """A request's span, named ``{method}`` until its route is known (``end_server_span``)."""
        parent = _PROPAGATOR.extract(headers)
        return self._tracer.start_span(method, context=parent, kind=SpanKind.SERVER, attributes={
            "http.request.method": method, "url.path": path})

    @staticmethod
    def end_server_span(span: Span, method: str, route: str | None, status: int, request_id: str) -> None:
        if route is not None:
            span.update_name(f"{method} {route}")
            span.set_attribute("http.route", route)
        span.set_attribute("http.response.status_code", status)
        span.set_attribute("switchyard.request_id", request_id)
        if status >= 500:  # a 4xx is the client's error, not the server's (HTTP semantic conventions)
            span.set_attribute("error.type", str(status))
            span.set_status(Status(StatusCode.ERROR))
        span.end()

    def start_socket_span(self, path: str, scheme: str, headers: Mapping[str, str]) -> Span:
        """A WebSocket connection's span, from its upgrade request (a ``GET``) to its close;
        named ``GET`` until its route is known (``end_socket_span``)."""
        parent = _PROPAGATOR.extract(headers)
        attributes: dict[str, AttributeValue] = {"http.request.method": "GET", "url.path": path, "url.scheme": scheme}
        agent = headers.get("user-agent")
        if agent:
            attributes["user_agent.original"] = agent
        return self._tracer.start_span("GET", context=parent, kind=SpanKind.SERVER, attributes=attributes)

    @staticmethod
    def end_socket_span(span: Span, outcome: SocketOutcome) -> None:
        if outcome.route is not None:
            span.update_name(f"GET {outcome.route}")
            span.set_attribute("http.route", outcome.route)
        if outcome.status is not None:
            span.set_attribute("http.response.status_code", outcome.status)
        if outcome.close_code is not None:
            span.set_attribute("switchyard.websocket.close_code", outcome.close_code)
        error = outcome.error
        if error is None and outcome.status is not None and outcome.status >= 500:
            error = str(outcome.status)
        if error is None and outcome.close_code == INTERNAL_ERROR:
            error = str(INTERNAL_ERROR)
        if error is not None:
            span.set_attribute("error.type", error)
            span.set_status(Status(StatusCode.ERROR))
        span.end()

    def start_model_span(self, operation: str, model: str, attributes: Mapping[str, AttributeValue],
                         parent: Span | None = None) -> Span:
        return self._tracer.start_span(f"{operation} {model}", kind=SpanKind.CLIENT,
                                       context=set_span_in_context(parent) if parent is not None else None,
                                       attributes={"gen_ai.operation.name": operation, **attributes})

    @staticmethod
    def fail(span: Span, error_type: str, message: str) -> None:
        span.set_attribute("error.type", error_type)
        span.set_status(Status(StatusCode.ERROR, message))

    def shutdown(self) -> None:
        self._provider.shutdown()
