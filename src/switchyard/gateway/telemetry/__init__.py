"""Observability: Prometheus metrics, structured logs with request ids, OpenTelemetry spans."""
