"""Who is calling: the master key, or a stored API key (kept hashed)."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal, Protocol

from switchyard.core.errors import ErrorKind, SwitchyardError

MASTER_OWNER = "owner_master"


Role = Literal["owner", "admin", "project"]


@dataclass(frozen=True, slots=True)
class Limits:
    """Rate limits at one level (key, project or deployment); None is unlimited."""

    requests_per_minute: int | None = None
    tokens_per_minute: int | None = None
    max_concurrent_requests: int | None = None


@dataclass(frozen=True, slots=True)
class Principal:
    """The caller. ``owner_id`` is the project every stored object is scoped by."""

    owner_id: str
    key_id: str | None = None
    is_master: bool = False
    role: Role = "project"
    key_limits: Limits = field(default_factory=Limits)
    project_limits: Limits = field(default_factory=Limits)
    key_budget_usd: Decimal | None = None
    project_budget_usd: Decimal | None = None
    allowed_models: tuple[str, ...] | None = None  # None: every model

    @property
    def project_id(self) -> str:
        return self.owner_id


class KeyLookup(Protocol):
    async def find_by_secret(self, secret: str) -> object | None: ...


def presented_keys(headers: Mapping[str, str]) -> list[str]:
    """Every key the request carries: ``Authorization: Bearer`` and ``x-api-key``
    (clients such as Claude Code send both)."""
    keys: list[str] = []
    authorization = headers.get("authorization", "")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        keys.append(token.strip())
    api_key = headers.get("x-api-key", "").strip()
    if api_key and api_key not in keys:
        keys.append(api_key)
    return keys


class Authenticator:
    def __init__(self, master_key: str, keys: KeyLookup | None = None) -> None:
        self._master_digest = hashlib.sha256(master_key.encode()).digest()
        self._keys = keys

    async def authenticate(self, headers: Mapping[str, str]) -> Principal:
        candidates = presented_keys(headers)
        if not candidates:
            raise SwitchyardError(
                ErrorKind.AUTHENTICATION,
                "No API key provided. Send it as 'Authorization: Bearer <key>' or 'x-api-key'.",
                code="missing_api_key",
            )
        for secret in candidates:
            if hmac.compare_digest(hashlib.sha256(secret.encode()).digest(), self._master_digest):
                return Principal(owner_id=MASTER_OWNER, is_master=True, role="owner")
            if self._keys is not None:
                record = await self._keys.find_by_secret(secret)
                if record is not None:
                    owner = getattr(record, "owner_id")  # noqa: B009 - protocol-typed record
                    return Principal(owner_id=owner, key_id=getattr(record, "id"))  # noqa: B009
        raise SwitchyardError(
            ErrorKind.AUTHENTICATION, "Incorrect API key provided.", code="invalid_api_key"
        )


def require_admin(principal: Principal) -> None:
    """Administration endpoints take the master key or an admin key, never a project key."""
    if principal.role not in ("owner", "admin"):
        raise SwitchyardError(
            ErrorKind.PERMISSION,
            "This endpoint needs an admin key; project API keys cannot manage the organization.",
            code="insufficient_permissions",
        )
