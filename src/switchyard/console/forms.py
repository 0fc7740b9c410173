"""HTML form fields read into the administration API's body shape, so the console
validates exactly as the API does (and its errors name the same fields)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from starlette.datastructures import FormData

from switchyard.core.errors import invalid

LIMIT_FIELDS = ("max_requests_per_1_minute", "max_tokens_per_1_minute", "max_concurrent_requests")
BREAKER_WHOLE = ("breaker_failures", "breaker_min_calls")
BREAKER_NUMBERS = ("breaker_cooldown", "breaker_error_rate", "breaker_window")


def text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def whole(form: FormData, name: str) -> int | None:
    """An empty field is ``None`` (no limit)."""
    raw = text(form, name)
    if not raw:
        return None
    if not raw.isdigit():
        raise invalid(f"'{name}' must be a whole number (or empty for none).", name)
    return int(raw)


def listed(form: FormData, name: str) -> list[str] | None:
    """Comma- or line-separated values; empty is ``None`` (no restriction)."""
    parts = [part.strip() for part in text(form, name).replace("\n", ",").split(",")]
    kept = [part for part in parts if part]
    return kept or None


def cents(form: FormData, name: str) -> int | None:
    """US dollars typed as ``12.50``, as the API's whole US cents."""
    raw = text(form, name).lstrip("$")
    if not raw:
        return None
    try:
        amount = Decimal(raw)
    except InvalidOperation as exc:
        raise invalid(f"'{name}' must be an amount in US dollars, such as 25 or 12.50.", name) from exc
    if not amount.is_finite() or amount <= 0 or amount != amount.quantize(Decimal("0.01")):
        raise invalid(f"'{name}' must be a positive amount in US dollars with at most two decimals.", name)
    return int(amount * 100)


def spend_limit(form: FormData) -> dict[str, Any] | None:
    amount = cents(form, "budget_usd")
    if amount is None:
        return None
    interval = text(form, "budget_interval") or "month"
    return {"threshold_amount": amount, "currency": "USD", "interval": interval}


def expiry(form: FormData) -> int | None:
    """A date (``YYYY-MM-DD``) as the unix time its day ends, UTC; empty: never."""
    raw = text(form, "expires_on")
    if not raw:
        return None
    try:
        day = datetime.strptime(raw, "%Y-%m-%d").replace(tzinfo=UTC)
    except ValueError as exc:
        raise invalid("'expires_on' must be a date (YYYY-MM-DD).", "expires_on") from exc
    return int(day.timestamp()) + 86399


def limits(form: FormData) -> dict[str, Any]:
    return {name: whole(form, name) for name in LIMIT_FIELDS}


def key_body(form: FormData) -> dict[str, Any]:
    """A key's settings as ``POST .../api_keys`` takes them."""
    return {"expires_at": expiry(form), "allowed_models": listed(form, "allowed_models"),
            "allowed_ips": listed(form, "allowed_ips"), "spend_limit": spend_limit(form), **limits(form)}


def number(form: FormData, name: str) -> float | None:
    raw = text(form, name)
    if not raw:
        return None
    try:
        return float(raw)
    except ValueError as exc:
        raise invalid(f"'{name}' must be a number (or empty).", name) from exc


def signed(form: FormData, name: str) -> int | None:
    raw = text(form, name)
    if not raw:
        return None
    if not raw.lstrip("-").isdigit():
        raise invalid(f"'{name}' must be a whole number (or empty).", name)
    return int(raw)


def deployment_body(form: FormData, *, creating: bool) -> dict[str, Any]:
    """A deployment as ``POST /v1/organization/deployments`` takes it: empty routing fields
    are left as they are, empty limits and breaker settings are cleared (the breaker then
    follows the routing's), an empty key is kept unless creating."""
    body: dict[str, Any] = {}
    if creating:
        body.update(model=text(form, "model"), provider=text(form, "provider"),
                    upstream_model=text(form, "upstream_model") or text(form, "model"),
                    base_url=text(form, "base_url") or None)
    if text(form, "api_key") or creating:
        body["api_key"] = text(form, "api_key") or None
    weight, priority = number(form, "weight"), signed(form, "priority")
    if weight is not None:
        body["weight"] = weight
    if priority is not None:
        body["priority"] = priority
    for name in ("max_concurrency", "rpm", "tpm"):
        body[name] = whole(form, name)
    body["timeout"] = number(form, "timeout")
    for name in BREAKER_WHOLE:
        body[name] = whole(form, name)
    for name in BREAKER_NUMBERS:
        body[name] = number(form, name)
    return body
