"""Typed reads from untrusted JSON, failing with a 400 that names the field."""

from __future__ import annotations

from typing import Any

from switchyard.core.errors import SwitchyardError, invalid

_MISSING: Any = object()
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1  # every integer field fits here unless it says narrower


def type_name(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def wrong_type(path: str, expected: str, value: object) -> SwitchyardError:
    return invalid(
        f"Invalid type for '{path}': expected {expected}, but got {type_name(value)} instead.",
        path,
        "invalid_type",
    )


def missing(path: str) -> SwitchyardError:
    return invalid(f"Missing required parameter: '{path}'.", path, "missing_required_parameter")


def join(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def obj(value: object, path: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise wrong_type(path, "an object", value)
    return value


def arr(value: object, path: str) -> list[Any]:
    if not isinstance(value, list):
        raise wrong_type(path, "an array", value)
    return value


def opt_str(d: dict[str, Any], key: str, path: str = "") -> str | None:
    value = d.get(key)
    if value is not None and not isinstance(value, str):
        raise wrong_type(join(path, key), "a string", value)
    return value


def req_str(d: dict[str, Any], key: str, path: str = "") -> str:
    value = opt_str(d, key, path)
    if value is None:
        raise missing(join(path, key))
    return value


def opt_bool(d: dict[str, Any], key: str, path: str = "") -> bool | None:
    value = d.get(key)
    if value is not None and not isinstance(value, bool):
        raise wrong_type(join(path, key), "a boolean", value)
    return value


def opt_int(
    d: dict[str, Any], key: str, path: str = "", *, lo: int | None = None, hi: int | None = None
) -> int | None:
    value = d.get(key)
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise wrong_type(join(path, key), "an integer", value)
    _check_range(join(path, key), value, INT64_MIN if lo is None else lo, INT64_MAX if hi is None else hi)
    return value


def opt_num(
    d: dict[str, Any],
    key: str,
    path: str = "",
    *,
    lo: float | None = None,
    hi: float | None = None,
) -> float | None:
    value = d.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise wrong_type(join(path, key), "a number", value)
    _check_range(join(path, key), value, lo, hi)
    return value


def _check_range(path: str, value: float, lo: float | None, hi: float | None) -> None:
    if lo is not None and value < lo:
        raise invalid(
            f"Invalid '{path}': {value} is less than the minimum of {lo}.",
            path,
            "integer_below_min_value" if isinstance(value, int) else "decimal_below_min_value",
        )
    if hi is not None and value > hi:
        raise invalid(
            f"Invalid '{path}': {value} is greater than the maximum of {hi}.",
            path,
            "integer_above_max_value" if isinstance(value, int) else "decimal_above_max_value",
        )


def no_nul(value: str | None, path: str) -> str | None:
    """``value``, unless it holds a NUL character (ids, names and labels are stored as text)."""
    if value is not None and "\x00" in value:
        raise invalid(f"Invalid '{path}': text must not contain NUL characters (\\u0000).", path, "invalid_value")
    return value


def one_of(value: str, allowed: tuple[str, ...], path: str) -> str:
    if value not in allowed:
        choices = ", ".join(f"'{a}'" for a in allowed)
        raise invalid(
            f"Invalid value for '{path}': '{value}'. Supported values are: {choices}.",
            path,
            "invalid_value",
        )
    return value
