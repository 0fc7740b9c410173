"""A caller kept with work that runs later (a batch's lines): its key, budgets, limits and
model lists as JSON, and the ``Principal`` they stand for again when the work runs."""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from typing import Any

from switchyard.gateway.auth import Principal
from switchyard.gateway.grants import Limits


def _limits(limits: Limits) -> dict[str, Any]:
    return dataclasses.asdict(limits)


def _text(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _list(value: tuple[str, ...] | None) -> list[str] | None:
    return None if value is None else list(value)


def snapshot(principal: Principal) -> dict[str, Any]:
    return {
        "key_id": principal.key_id, "is_master": principal.is_master, "role": principal.role,
        "key_limits": _limits(principal.key_limits), "project_limits": _limits(principal.project_limits),
        "key_budget_usd": _text(principal.key_budget_usd), "project_budget_usd": _text(principal.project_budget_usd),
        "key_budget_interval": principal.key_budget_interval,
        "project_budget_interval": principal.project_budget_interval,
        "allowed_models": _list(principal.allowed_models),
        "project_allowed_models": _list(principal.project_allowed_models),
        "project_denied_models": list(principal.project_denied_models),
        "project_model_limits": {name: _limits(lim) for name, lim in principal.project_model_limits.items()},
    }


def _decimal(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def _tuple(value: Any) -> tuple[str, ...] | None:
    return None if value is None else tuple(value)


def restore(owner_id: str, kept: dict[str, Any]) -> Principal:
    return Principal(
        owner_id=owner_id, key_id=kept.get("key_id"), is_master=bool(kept.get("is_master")),
        role=kept.get("role") or "project", key_limits=Limits(**(kept.get("key_limits") or {})),
        project_limits=Limits(**(kept.get("project_limits") or {})),
        key_budget_usd=_decimal(kept.get("key_budget_usd")),
        project_budget_usd=_decimal(kept.get("project_budget_usd")),
        key_budget_interval=kept.get("key_budget_interval"),
        project_budget_interval=kept.get("project_budget_interval"),
        allowed_models=_tuple(kept.get("allowed_models")),
        project_allowed_models=_tuple(kept.get("project_allowed_models")),
        project_denied_models=tuple(kept.get("project_denied_models") or ()),
        project_model_limits={name: Limits(**lim) for name, lim in (kept.get("project_model_limits") or {}).items()},
    )
