"""A LiteLLM-style ``model_list`` (with ``router_settings``) read as Switchyard's own
``models:`` and ``routing:``, and environment references in model declarations
(``os.environ/NAME`` as a whole value, ``${NAME}`` anywhere in one) replaced by
their values. Works on the raw YAML mapping, before validation."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

ENV_PREFIX = "os.environ/"
_ENV_PATTERN = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")

# LiteLLM's provider prefix -> (Switchyard provider kind, default base_url)
PREFIXES: dict[str, tuple[str, str | None]] = {
    "openai": ("openai", None),
    "hosted_vllm": ("openai", None),
    "openai-responses": ("openai-responses", None),
    "anthropic": ("anthropic", None),
    "deepseek": ("openai", "https://api.deepseek.com/v1"),
    "groq": ("openai", "https://api.groq.com/openai/v1"),
    "openrouter": ("openai", "https://openrouter.ai/api/v1"),
}

# litellm_params key -> DeploymentConfig field
PARAMS: dict[str, str] = {
    "api_base": "base_url", "base_url": "base_url", "api_key": "api_key", "rpm": "rpm", "tpm": "tpm",
    "weight": "weight", "order": "priority", "timeout": "timeout", "max_parallel_requests": "max_concurrency",
    "extra_headers": "headers", "headers": "headers",
}
IGNORED_PARAMS = frozenset({"stream_timeout", "max_retries"})


def _cooldown(seconds: Any) -> dict[str, Any]:
    """LiteLLM's ``cooldown_time``; 0 there means the deployment is never cooled down."""
    value = float(seconds)
    if value < 0:
        raise ValueError(seconds)
    return {"breaker_failures": 0} if value == 0 else {"breaker_cooldown": value}


# litellm_params keys that become breaker settings of that deployment alone
BREAKER_PARAMS: dict[str, Any] = {"cooldown_time": _cooldown}

# router_settings / litellm_settings key -> RoutingConfig fields
ROUTER: dict[str, Any] = {
    "num_retries": lambda n: {"max_attempts": int(n) + 1},
    "allowed_fails": lambda n: {"breaker_failures": int(n) + 1},
    "cooldown_time": _cooldown,
}
IGNORED_ROUTER = frozenset({"routing_strategy", "enable_pre_call_checks", "retry_after", "timeout",
                            "drop_params", "set_verbose", "request_timeout"})


class ModelListError(ValueError):
    pass


def resolve_env(value: Any, env: Mapping[str, str], where: str) -> Any:
    """``value`` with every environment reference replaced; a missing variable is an error
    naming the field that refers to it."""
    if isinstance(value, dict):
        return {k: resolve_env(v, env, f"{where}.{k}") for k, v in value.items()}
    if isinstance(value, list):
        return [resolve_env(v, env, f"{where}[{i}]") for i, v in enumerate(value)]
    if not isinstance(value, str):
        return value
    if value.startswith(ENV_PREFIX):
        return _lookup(value[len(ENV_PREFIX):], env, where)
    return _ENV_PATTERN.sub(lambda m: _lookup(m.group(1), env, where), value)


def _lookup(name: str, env: Mapping[str, str], where: str) -> str:
    if name not in env:
        raise ModelListError(f"{where}: environment variable {name} is not set")
    return env[name]


def expand_model_list(raw: dict[str, Any], env: Mapping[str, str]) -> dict[str, Any]:
    raw = dict(raw)
    models = resolve_env(raw.get("models") or [], env, "models")
    entries = resolve_env(raw.pop("model_list", None) or [], env, "model_list")
    if not isinstance(entries, list):
        raise ModelListError("model_list must be a list")
    routing = dict(_router_settings(raw.pop("litellm_settings", None), "litellm_settings"))
    routing.update(_router_settings(raw.pop("router_settings", None), "router_settings"))
    fallbacks = routing.pop("fallbacks", {})
    grouped = _group(entries)
    if not isinstance(models, list):
        raise ModelListError("models must be a list")
    known = {m.get("name") for m in models if isinstance(m, dict)}
    for name in grouped:
        if name in known:
            raise ModelListError(f"model_list: '{name}' is also declared under models")
    models = [*models, *grouped.values()]
    for model in models:
        if isinstance(model, dict) and model.get("name") in fallbacks:
            model.setdefault("fallbacks", fallbacks[model["name"]])
    if raw.get("models") is not None or models:
        raw["models"] = models
    if routing:
        raw["routing"] = {**routing, **(raw.get("routing") or {})}
    return raw


def _group(entries: list[Any]) -> dict[str, dict[str, Any]]:
    """One model per ``model_name``, one deployment per entry, in file order."""
    grouped: dict[str, dict[str, Any]] = {}
    for i, entry in enumerate(entries):
        where = f"model_list[{i}]"
        if not isinstance(entry, dict) or not isinstance(entry.get("model_name"), str):
            raise ModelListError(f"{where}.model_name: a string is required")
        deployment = _deployment(entry.get("litellm_params"), f"{where}.litellm_params")
        info = entry.get("model_info") or {}
        if not isinstance(info, dict):
            raise ModelListError(f"{where}.model_info must be a mapping")
        if info.get("id") is not None:
            deployment["id"] = str(info["id"])
        name = entry["model_name"]
        model = grouped.setdefault(name, {"name": name, "provider": deployment["provider"], "deployments": []})
        model["deployments"].append(deployment)
    return grouped


def _deployment(params: Any, where: str) -> dict[str, Any]:
    if not isinstance(params, dict) or not isinstance(params.get("model"), str):
        raise ModelListError(f"{where}.model: a string such as 'openai/gpt-4o' is required")
    prefix, slash, upstream = params["model"].partition("/")
    if not slash:
        prefix, upstream = ("anthropic" if params["model"].startswith("claude") else "openai"), params["model"]
    if prefix not in PREFIXES:
        raise ModelListError(f"{where}.model: unknown provider prefix '{prefix}/' "
                             f"(supported: {', '.join(sorted(PREFIXES))})")
    kind, default_base = PREFIXES[prefix]
    deployment: dict[str, Any] = {"provider": kind, "model": upstream}
    if default_base:
        deployment["base_url"] = default_base
    for key, value in params.items():
        if key == "model" or key in IGNORED_PARAMS:
            continue
        if key in BREAKER_PARAMS:
            deployment.update(_converted(BREAKER_PARAMS[key], value, f"{where}.{key}"))
        elif key in PARAMS:
            deployment[PARAMS[key]] = value
        else:
            supported = ", ".join(sorted([*PARAMS, *BREAKER_PARAMS]))
            raise ModelListError(f"{where}.{key}: not supported (supported: {supported})")
    return deployment


def _converted(convert: Any, value: Any, where: str) -> dict[str, Any]:
    if isinstance(value, bool):
        raise ModelListError(f"{where}: a number is required")
    try:
        return dict(convert(value))
    except (TypeError, ValueError) as exc:
        raise ModelListError(f"{where}: a number (not negative) is required") from exc


def _router_settings(settings: Any, where: str) -> dict[str, Any]:
    if settings is None:
        return {}
    if not isinstance(settings, dict):
        raise ModelListError(f"{where} must be a mapping")
    out: dict[str, Any] = {}
    # cooldown_time 0 (never cooled down) outranks allowed_fails wherever it stands
    for key, value in sorted(settings.items(), key=lambda item: item[0] == "cooldown_time"):
        if key == "fallbacks":
            out["fallbacks"] = _fallbacks(value, f"{where}.fallbacks")
        elif key in ROUTER:
            out.update(_converted(ROUTER[key], value, f"{where}.{key}"))
        elif key not in IGNORED_ROUTER:
            raise ModelListError(f"{where}.{key}: not supported "
                                 f"(supported: fallbacks, {', '.join(sorted(ROUTER))})")
    return out


def _fallbacks(value: Any, where: str) -> dict[str, list[str]]:
    """LiteLLM's ``[{model: [fallback, ...]}, ...]``."""
    if not isinstance(value, list):
        raise ModelListError(f"{where}: a list of {{model: [fallbacks]}} mappings is required")
    out: dict[str, list[str]] = {}
    for i, item in enumerate(value):
        if not isinstance(item, dict):
            raise ModelListError(f"{where}[{i}]: a mapping {{model: [fallbacks]}} is required")
        for model, targets in item.items():
            if not isinstance(targets, list) or not all(isinstance(t, str) for t in targets):
                raise ModelListError(f"{where}[{i}].{model}: a list of model names is required")
            out[str(model)] = list(targets)
    return out
