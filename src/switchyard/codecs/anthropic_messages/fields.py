"""Typed reads of JSON fields that fail with a 400 naming the field."""

from __future__ import annotations

from typing import Any

from switchyard.core.errors import invalid

_MISSING = object()
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


def at(path: str, key: str | int) -> str:
    """``messages`` + ``0`` → ``messages[0]``; ``messages[0]`` + ``role`` → ``messages[0].role``."""
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    return {
        bool: "boolean", int: "integer", float: "number", str: "string", list: "array",
        dict: "object",
    }.get(type(value), type(value).__name__)


def _wrong(path: str, expected: str, value: Any) -> Exception:
    return invalid(f"{path}: expected {expected}, got {_type_name(value)}", path)


def get(obj: dict[str, Any], key: str, path: str, *, required: bool = False) -> Any:
    value = obj.get(key, _MISSING)
    if value is _MISSING:
        if required:
            raise invalid(f"{at(path, key)}: field required", at(path, key))
        return None
    return value


def obj(value: Any, path: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _wrong(path, "an object", value)
    return value


def array(value: Any, path: str) -> list[Any]:
    if not isinstance(value, list):
        raise _wrong(path, "an array", value)
    return value


def string(value: Any, path: str) -> str:
    if not isinstance(value, str):
        raise _wrong(path, "a string", value)
    return value


def boolean(value: Any, path: str) -> bool:
    if not isinstance(value, bool):
        raise _wrong(path, "a boolean", value)
    return value


def integer(value: Any, path: str, *, minimum: int | None = None, maximum: int = INT64_MAX) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise _wrong(path, "an integer", value)
    if minimum is not None and value < minimum:
        raise invalid(f"{path}: must be at least {minimum}, got {value}", path)
    if value > maximum or value < INT64_MIN:
        raise invalid(f"{path}: must be at most {maximum}, got {value}", path)
    return value


def number(value: Any, path: str, *, low: float, high: float) -> float:
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise _wrong(path, "a number", value)
    if not low <= value <= high:
        raise invalid(f"{path}: must be between {low} and {high}, got {value}", path)
    return float(value)


def one_of(value: Any, path: str, choices: tuple[str, ...]) -> str:
    if value not in choices:
        allowed = ", ".join(repr(c) for c in choices)
        raise invalid(f"{path}: expected one of {allowed}, got {value!r}", path)
    return str(value)


def optional(obj_: dict[str, Any], key: str, path: str, read: Any, **kw: Any) -> Any:
    """``read(obj[key], path.key)`` when the key is present and not null, else None."""
    value = obj_.get(key)
    return None if value is None else read(value, at(path, key), **kw)
