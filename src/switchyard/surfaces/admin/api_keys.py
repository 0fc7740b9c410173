"""``/v1/organization/projects/{project_id}/api_keys``: OpenAI's list, retrieve and
delete, plus Switchyard's extensions: ``POST .../api_keys`` creates a key directly
(the secret is in ``value``, shown once) and ``POST .../api_keys/{id}`` changes a key's
name and settings (expiry, enabled, model and IP allowlists, limits, spend limit),
which appear as extra fields on the key object."""

from __future__ import annotations

import dataclasses
import ipaddress
from datetime import UTC, datetime, timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from switchyard.core.errors import SwitchyardError, invalid
from switchyard.gateway.auth import Principal
from switchyard.store.keys import ApiKeyRecord, KeySettings
from switchyard.store.service_accounts import ServiceAccountRecord
from switchyard.surfaces.admin.common import (
    MISSING,
    admin_endpoint,
    bool_field,
    cents_field,
    cents_out,
    choice_field,
    count_field,
    delete_handler,
    object_routes,
    paged,
    refuse_unknown,
    strings_field,
    text_field,
    unix,
)
from switchyard.surfaces.context import Services
from switchyard.surfaces.http import JSONResponse, read_json

PREFIX = "/v1/organization/projects/{project_id}/api_keys"
MAX_EXPIRY_SECONDS = 10 * 365 * 24 * 3600
LATEST_EXPIRY = 253_402_300_799  # 9999-12-31T23:59:59Z
OWNER_USER = {"id": "user-owner", "email": "", "name": "Organization owner", "created_at": 0, "role": "owner"}
SETTING_FIELDS = ("expires_in_seconds", "expires_at", "scopes", "enabled", "allowed_models", "allowed_ips",
                  "max_requests_per_1_minute", "max_tokens_per_1_minute", "max_concurrent_requests",
                  "spend_limit")
LIMITS = {"max_requests_per_1_minute": "rpm_limit", "max_tokens_per_1_minute": "tpm_limit",
          "max_concurrent_requests": "concurrency_limit"}


def redacted(record: ApiKeyRecord) -> str:
    return record.key_prefix + "****"


def spend_limit_object(settings: KeySettings) -> dict[str, Any] | None:
    if settings.budget_usd is None:
        return None
    return {"threshold_amount": cents_out(settings.budget_usd), "currency": "USD",
            "interval": settings.budget_interval}


def key_object(record: ApiKeyRecord, account: ServiceAccountRecord | None) -> dict[str, Any]:
    s = record.settings
    owner: dict[str, Any] = (
        {"type": "service_account", "service_account": {
            "id": account.id, "name": account.name, "created_at": unix(account.created_at), "role": account.role}}
        if account is not None else {"type": "user", "user": OWNER_USER})
    return {
        "object": "organization.project.api_key", "id": record.id, "name": record.name,
        "redacted_value": redacted(record), "created_at": unix(record.created_at),
        "last_used_at": unix(record.last_used_at), "owner_project_access": "active", "owner": owner,
        "project_id": record.owner_id,
        "expires_at": unix(s.expires_at), "enabled": s.enabled,
        "allowed_models": None if s.allowed_models is None else list(s.allowed_models),
        "allowed_ips": None if s.allowed_ips is None else list(s.allowed_ips),
        **{wire: getattr(s, stored) for wire, stored in LIMITS.items()},
        "spend_limit": spend_limit_object(s),
    }


def _cidrs(values: tuple[str, ...] | None) -> tuple[str, ...] | None:
    if values is None:
        return None
    normalised = []
    for index, value in enumerate(values):
        try:
            normalised.append(str(ipaddress.ip_network(value.strip(), strict=False)))
        except ValueError as exc:
            raise invalid(f"'allowed_ips[{index}]' is not an IP address or CIDR block: {value!r}.",
                          f"allowed_ips[{index}]") from exc
    return tuple(normalised)


def _spend_limit(value: Any) -> dict[str, Any]:
    if value is None:
        return {"budget_usd": None, "budget_interval": None}
    if not isinstance(value, dict):
        raise invalid("'spend_limit' must be an object with 'threshold_amount' (USD) and 'interval'.",
                      "spend_limit")
    for name in value:
        if name not in ("threshold_amount", "currency", "interval"):
            raise invalid(f"Unrecognized field 'spend_limit.{name}'.", f"spend_limit.{name}")
    try:
        amount = cents_field(value, "threshold_amount")
        choice_field(value, "currency", ("USD",))
        interval = choice_field(value, "interval", ("month", "day", "total"), "total")
    except SwitchyardError as error:
        error.param = f"spend_limit.{error.param}"
        raise
    return {"budget_usd": amount, "budget_interval": interval}


def key_settings(body: dict[str, Any], current: KeySettings) -> KeySettings:
    """``current`` with the setting fields present in ``body`` applied."""
    scopes = strings_field(body, "scopes", nullable=False)
    if scopes not in (MISSING, ()):
        raise invalid("Scope restrictions are not supported: 'scopes' may only be [] (all permissions); "
                      "restrict a key with 'allowed_models' instead.", "scopes", "unsupported_parameter")
    changes: dict[str, Any] = {}
    seconds = count_field(body, "expires_in_seconds", maximum=MAX_EXPIRY_SECONDS)
    if seconds is not MISSING:
        changes["expires_at"] = None if seconds is None else datetime.now(UTC) + timedelta(seconds=seconds)
    at = count_field(body, "expires_at", minimum=0, maximum=LATEST_EXPIRY)
    if at is not MISSING:
        if seconds is not MISSING:
            raise invalid("Give 'expires_at' or 'expires_in_seconds', not both.", "expires_at")
        changes["expires_at"] = None if at is None else datetime.fromtimestamp(at, UTC)
    enabled = bool_field(body, "enabled")
    if enabled is not MISSING:
        changes["enabled"] = enabled
    models = strings_field(body, "allowed_models")
    if models is not MISSING:
        changes["allowed_models"] = models
    ips = strings_field(body, "allowed_ips")
    if ips is not MISSING:
        changes["allowed_ips"] = _cidrs(ips)
    for wire, stored in LIMITS.items():
        value = count_field(body, wire)
        if value is not MISSING:
            changes[stored] = value
    if "spend_limit" in body:
        changes.update(_spend_limit(body["spend_limit"]))
    return dataclasses.replace(current, **changes)


async def accounts_by_id(services: Services, project_id: str) -> dict[str, ServiceAccountRecord]:
    return {a.id: a for a in await services.organization.list_service_accounts(project_id)}


async def render_key(services: Services, record: ApiKeyRecord) -> dict[str, Any]:
    account = None
    if record.service_account_id is not None:
        account = (await accounts_by_id(services, record.owner_id)).get(record.service_account_id)
    return key_object(record, account)


def _ids(request: Request) -> tuple[str, str]:
    return str(request.path_params["project_id"]), str(request.path_params["api_key_id"])


@admin_endpoint
async def list_keys(request: Request, services: Services, principal: Principal) -> Response:
    project_id = str(request.path_params["project_id"])
    access = choice_field(dict(request.query_params), "owner_project_access", ("active", "inactive", "any"), "any")
    keys = [] if access == "inactive" else await services.organization.list_keys(project_id)
    accounts = await accounts_by_id(services, project_id)
    return paged(request, keys, lambda k: k.id,
                 lambda k: key_object(k, accounts.get(k.service_account_id or "")))


@admin_endpoint
async def create_key(request: Request, services: Services, principal: Principal) -> Response:
    body = await read_json(request, services.settings.max_body_bytes, allow_empty=True)
    refuse_unknown(body, ("name", *SETTING_FIELDS))
    name = text_field(body, "name", "Secret key")
    created = await services.organization.create_key(
        str(request.path_params["project_id"]), name, key_settings(body, KeySettings()))
    return JSONResponse({**key_object(created.record, None), "value": created.secret})


@admin_endpoint
async def get_key(request: Request, services: Services, principal: Principal) -> Response:
    project_id, key_id = _ids(request)
    return JSONResponse(await render_key(services, await services.organization.key(project_id, key_id)))


@admin_endpoint
async def update_key(request: Request, services: Services, principal: Principal) -> Response:
    body = await read_json(request, services.settings.max_body_bytes)
    refuse_unknown(body, ("name", *SETTING_FIELDS))
    project_id, key_id = _ids(request)
    current = await services.organization.key(project_id, key_id)
    name = text_field(body, "name", current.name)
    record = await services.organization.update_key(project_id, key_id, name, key_settings(body, current.settings))
    return JSONResponse(await render_key(services, record))


delete_key = delete_handler(("project_id", "api_key_id"), lambda s: s.organization.delete_key,
                            "organization.project.api_key.deleted")


ROUTES: list[Route] = object_routes(PREFIX, "api_key_id", listing=list_keys, create=create_key, get=get_key,
                                    update=update_key, delete=delete_key)
