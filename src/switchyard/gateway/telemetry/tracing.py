"""OpenTelemetry spans for model calls, after the GenAI semantic conventions, exported over
OTLP/HTTP when ``otlp_endpoint`` is set. The tracer provider belongs to the app (it is not
installed globally) and is flushed when the app stops."""

from __future__ import annotations

from collections.abc import Mapping

from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace import Span, SpanKind, Status, StatusCode

from switchyard import __version__
from switchyard.gateway.telemetry.genai import AttributeValue


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

    def start_model_span(self, operation: str, model: str, attributes: Mapping[str, AttributeValue]) -> Span:
        return self._tracer.start_span(f"{operation} {model}", kind=SpanKind.CLIENT,
                                       attributes={"gen_ai.operation.name": operation, **attributes})

    @staticmethod
    def fail(span: Span, error_type: str, message: str) -> None:
        span.set_attribute("error.type", error_type)
        span.set_status(Status(StatusCode.ERROR, message))

    def shutdown(self) -> None:
        self._provider.shutdown()
