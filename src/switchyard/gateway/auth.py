"""Who is calling: the master key (the organisation owner), an admin key, or a
project API key; stored keys are kept as SHA-256 hashes only (``store/keys.py``).

The master key acts in the default project, or in the project named by the
``OpenAI-Project`` header (which the openai SDK sends when ``project=`` is set).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Literal, Protocol

from switchyard.core.errors import ErrorKind, SwitchyardError
from switchyard.gateway.grants import (
    DEFAULT_PROJECT,
    BudgetInterval,
    GuardrailPolicy,
    KeyGrant,
    Limits,
    ProjectGrant,
    address_allowed,
    matches_any,
    no_model_limits,
)

__all__ = ["DEFAULT_PROJECT", "MASTER_OWNER", "Authenticator", "CallerDirectory", "Limits", "Principal",
           "Role", "presented_keys", "require_admin", "require_api_access", "require_model"]

MASTER_OWNER = DEFAULT_PROJECT  # the project the master key acts in without an OpenAI-Project header
PROJECT_HEADER = "openai-project"


Role = Literal["owner", "admin", "project"]


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
    allowed_models: tuple[str, ...] | None = None  # the key's allowlist; None: every model
    project_model_limits: Mapping[str, Limits] = field(default_factory=no_model_limits)  # per public model
    key_budget_interval: BudgetInterval | None = None  # "month" or "total" (None when no budget)
    project_budget_interval: BudgetInterval | None = None
    project_allowed_models: tuple[str, ...] | None = None  # the project's model allow_list
    project_denied_models: tuple[str, ...] = ()  # the project's model deny_list
    project_guardrail: GuardrailPolicy | None = None  # moderation of model input

    @property
    def project_id(self) -> str:
        return self.owner_id

    def may_use_model(self, *names: str) -> bool:
        """Whether the caller may call a model known by any of ``names`` (the name
        asked for, the public name it resolved to); lists hold names or fnmatch patterns."""
        if any(matches_any(name, self.project_denied_models) for name in names):
            return False
        for allowlist in (self.allowed_models, self.project_allowed_models):
            if allowlist is not None and not any(matches_any(name, allowlist) for name in names):
                return False
        return True


class CallerDirectory(Protocol):
    """Stored keys and projects, as grants (``tenancy/directory.py``)."""

    async def key_grant(self, secret: str) -> KeyGrant | None: ...

    async def project_grant(self, project_id: str) -> ProjectGrant | None: ...


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


def _unauthenticated(message: str, code: str) -> SwitchyardError:
    return SwitchyardError(ErrorKind.AUTHENTICATION, message, code=code)


def _in_project(project: ProjectGrant, **fields: object) -> Principal:
    return Principal(
        owner_id=project.id, project_limits=project.limits, project_model_limits=project.model_limits,
        project_budget_usd=project.budget_usd, project_budget_interval=project.budget_interval,
        project_allowed_models=project.allowed_models, project_denied_models=project.denied_models,
        project_guardrail=project.guardrail, **fields,  # type: ignore[arg-type]
    )


class Authenticator:
    def __init__(self, master_key: str, directory: CallerDirectory | None = None) -> None:
        self._master_digest = hashlib.sha256(master_key.encode()).digest()
        self._directory = directory

    async def authenticate(self, headers: Mapping[str, str], client_ip: str | None = None) -> Principal:
        candidates = presented_keys(headers)
        if not candidates:
            raise _unauthenticated(
                "No API key provided. Send it as 'Authorization: Bearer <key>' or 'x-api-key'.",
                "missing_api_key")
        for secret in candidates:
            if hmac.compare_digest(hashlib.sha256(secret.encode()).digest(), self._master_digest):
                return await self._master(headers.get(PROJECT_HEADER, "").strip() or DEFAULT_PROJECT)
            if self._directory is not None:
                grant = await self._directory.key_grant(secret)
                if grant is not None:
                    return await self._keyed(grant, headers, client_ip)
        raise _unauthenticated("Incorrect API key provided.", "invalid_api_key")

    async def acting_in(self, project_id: str) -> Principal:
        """The organization owner acting in ``project_id`` (what the master key with an
        ``OpenAI-Project`` header is): the console's in-process calls run as this."""
        return await self._master(project_id)

    async def _project(self, project_id: str) -> ProjectGrant | None:
        if self._directory is None:
            return ProjectGrant(project_id) if project_id == DEFAULT_PROJECT else None
        return await self._directory.project_grant(project_id)

    async def _master(self, project_id: str) -> Principal:
        project = await self._project(project_id)
        if project is None or project.archived:
            raise _unauthenticated(
                f"The project '{project_id}' named by the OpenAI-Project header does not exist "
                "or is archived.", "invalid_project")
        return _in_project(project, is_master=True, role="owner")

    async def _keyed(self, grant: KeyGrant, headers: Mapping[str, str], client_ip: str | None) -> Principal:
        if not grant.enabled:
            raise _unauthenticated("This API key is disabled.", "api_key_disabled")
        if grant.expires_at is not None and grant.expires_at <= datetime.now(UTC):
            raise _unauthenticated("This API key has expired.", "api_key_expired")
        if grant.allowed_networks is not None and not address_allowed(client_ip, grant.allowed_networks):
            raise SwitchyardError(
                ErrorKind.PERMISSION, f"This API key may not be used from the address {client_ip}.",
                code="ip_not_allowed")
        if grant.kind == "admin":
            return Principal(owner_id=DEFAULT_PROJECT, key_id=grant.id, role="admin")
        project = await self._project(grant.project_id)
        if project is None or project.archived:
            raise _unauthenticated("This API key's project is archived.", "invalid_api_key")
        named = headers.get(PROJECT_HEADER, "").strip()
        if named and named != project.id:
            raise _unauthenticated(
                f"The OpenAI-Project header ('{named}') does not match this API key's project.",
                "mismatched_project")
        return _in_project(
            project, key_id=grant.id, role="project", key_limits=grant.limits,
            key_budget_usd=grant.budget_usd, key_budget_interval=grant.budget_interval,
            allowed_models=grant.allowed_models)


def require_admin(principal: Principal) -> None:
    """Administration endpoints take the master key or an admin key, never a project key."""
    if principal.role not in ("owner", "admin"):
        raise SwitchyardError(
            ErrorKind.PERMISSION,
            "This endpoint needs an admin key; project API keys cannot manage the organization.",
            code="insufficient_permissions",
        )


def require_api_access(principal: Principal) -> None:
    """Model and stored-object endpoints take the master key or a project key: admin
    keys manage the organization only, as OpenAI's do."""
    if principal.role == "admin":
        raise SwitchyardError(
            ErrorKind.PERMISSION,
            "Admin API keys can only call the administration API (/v1/organization/...); "
            "use a project API key.",
            code="insufficient_permissions",
        )


def require_model(principal: Principal, *names: str) -> None:
    """A model outside the key's or the project's allowlist answers as OpenAI does for a
    model the project cannot use: 403 ``model_not_found`` naming ``model``."""
    if not principal.may_use_model(*names):
        raise SwitchyardError(
            ErrorKind.PERMISSION,
            f"Project '{principal.project_id}' does not have access to model '{names[0]}'.",
            param="model",
            code="model_not_found",
        )
