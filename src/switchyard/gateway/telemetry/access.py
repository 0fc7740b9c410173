"""The end of one observed call (an HTTP request, or a background job): its limits settled
with what it used, its metrics counted, and its one log line written."""

from __future__ import annotations

import logging
import time

from switchyard.gateway.telemetry.logs import ACCESS_LOGGER
from switchyard.gateway.telemetry.request_trace import RequestTrace

access_log = logging.getLogger(ACCESS_LOGGER)
log = logging.getLogger(__name__)


async def record_end(trace: RequestTrace, *, status: int, method: str, path: str) -> None:
    try:
        await trace.finish()
    except Exception:
        log.exception("settling the rate limits of %s failed", trace.request_id)
    seconds = time.monotonic() - trace.started
    trace.services.metrics.observe_request(trace.surface, trace.model, status, seconds)
    if not access_log.isEnabledFor(logging.INFO):  # its record's fields are not built for nothing
        return
    usage = trace.usage
    access_log.info(
        "%s %s %s %.1fms", method, path, status, seconds * 1000,
        extra={"request_id": trace.request_id, "method": method, "path": path, "surface": trace.surface,
               "status": status, "latency_ms": round(seconds * 1000, 2), "project_id": trace.project_id,
               "key_id": trace.key_id, "model": trace.model or None,
               "input_tokens": usage.input_tokens if usage else None,
               "output_tokens": usage.output_tokens if usage else None},
    )
