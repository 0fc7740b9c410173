"""A limit decision as each vendor's response headers."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

from switchyard.gateway.limits.model import Decision, Window


def duration(seconds: float) -> str:
    """OpenAI's reset format: ``20ms``, ``1.5s``, ``6m0s``."""
    if seconds < 1:
        return f"{max(0, round(seconds * 1000))}ms"
    if seconds < 60:
        return f"{round(seconds, 3):g}s"
    minutes, rest = divmod(seconds, 60)
    return f"{int(minutes)}m{round(rest, 3):g}s"


def openai_headers(decision: Decision) -> dict[str, str]:
    headers: dict[str, str] = {}
    for kind, window in (("requests", decision.requests), ("tokens", decision.tokens)):
        if window is not None:
            headers[f"x-ratelimit-limit-{kind}"] = str(window.limit)
            headers[f"x-ratelimit-remaining-{kind}"] = str(window.remaining)
            headers[f"x-ratelimit-reset-{kind}"] = duration(window.reset_seconds)
    return headers


def _at(window: Window, now: datetime) -> str:
    return (now + timedelta(seconds=math.ceil(window.reset_seconds))).strftime("%Y-%m-%dT%H:%M:%SZ")


def anthropic_headers(decision: Decision, now: datetime | None = None) -> dict[str, str]:
    """Anthropic's requests-*, tokens-*, and input-tokens-* and output-tokens-*: a tokens-per-minute
    limit here counts input and output together, so it is the limit on either (as tokens-* is
    the most restrictive token limit in effect)."""
    moment = now or datetime.now(UTC)
    headers: dict[str, str] = {}
    tokens = decision.tokens
    for kind, window in (("requests", decision.requests), ("tokens", tokens), ("input-tokens", tokens),
                         ("output-tokens", tokens)):
        if window is not None:
            headers[f"anthropic-ratelimit-{kind}-limit"] = str(window.limit)
            headers[f"anthropic-ratelimit-{kind}-remaining"] = str(window.remaining)
            headers[f"anthropic-ratelimit-{kind}-reset"] = _at(window, moment)
    if not decision.allowed:
        headers["retry-after"] = str(max(1, math.ceil(decision.retry_after)))
    return headers
