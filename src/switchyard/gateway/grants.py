"""What the store says a key and a project may do, as the authenticator needs it.

Plain data, built by ``tenancy/directory.py`` from stored rows; ``auth.py`` turns a
key grant and its project grant into the request's ``Principal``.
"""

from __future__ import annotations

import fnmatch
import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from types import MappingProxyType
from typing import Literal

IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
KeyKind = Literal["project", "admin"]
BudgetInterval = Literal["month", "day", "total"]
GuardrailMode = Literal["flag", "block", "log"]

DEFAULT_PROJECT = "proj_default"


@dataclass(frozen=True, slots=True)
class Limits:
    """Rate limits at one level (key, project or deployment); None is unlimited."""

    requests_per_minute: int | None = None
    tokens_per_minute: int | None = None
    max_concurrent_requests: int | None = None


def no_model_limits() -> Mapping[str, Limits]:
    return MappingProxyType({})


@dataclass(frozen=True, slots=True)
class GuardrailPolicy:
    """A project's moderation guardrail on model input (``gateway/guardrail.py``) and,
    when ``output_mode`` is set, on model output (``gateway/output_guardrail.py``)."""

    mode: GuardrailMode
    model: str | None = None  # None: the first configured moderation model
    categories: tuple[str, ...] | None = None  # the categories that count; None: any
    output_mode: GuardrailMode | None = None  # None: output is not screened


@dataclass(frozen=True, slots=True)
class ProjectGrant:
    id: str
    archived: bool = False
    limits: Limits = field(default_factory=Limits)
    model_limits: Mapping[str, Limits] = field(default_factory=no_model_limits)
    budget_usd: Decimal | None = None
    budget_interval: BudgetInterval | None = None
    allowed_models: tuple[str, ...] | None = None  # the project's allow_list; None: every model
    denied_models: tuple[str, ...] = ()  # the project's deny_list
    guardrail: GuardrailPolicy | None = None


@dataclass(frozen=True, slots=True)
class KeyGrant:
    id: str
    kind: KeyKind
    project_id: str
    enabled: bool = True
    expires_at: datetime | None = None
    allowed_models: tuple[str, ...] | None = None
    allowed_networks: tuple[IpNetwork, ...] | None = None
    limits: Limits = field(default_factory=Limits)
    budget_usd: Decimal | None = None
    budget_interval: BudgetInterval | None = None


def matches_any(name: str, patterns: tuple[str, ...]) -> bool:
    """Model lists hold names or fnmatch patterns (``gpt-4o*``)."""
    return any(name == p or fnmatch.fnmatchcase(name, p) for p in patterns)


def address_allowed(address: str | None, networks: tuple[IpNetwork, ...]) -> bool:
    if address is None:
        return False
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return any(ip.version == net.version and ip in net for net in networks)
