"""Field readers the Assistants request bodies share."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from switchyard.codecs.openai_chat.fields import no_nul, wrong_type
from switchyard.core.errors import invalid


def known_fields(body: dict[str, Any], allowed: Iterable[str], path: str = "") -> None:
    """400 for a field the request type does not have (the schemas forbid extra properties)."""
    allowed_set = set(allowed)
    for name in body:
        if name not in allowed_set:
            field = f"{path}.{name}" if path else name
            raise invalid(f"Unrecognized request argument supplied: {field}", field, "unknown_parameter")


def bounded_text(body: dict[str, Any], key: str, limit: int) -> str | None:
    """An optional string of at most ``limit`` characters, without NUL."""
    value = body.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise wrong_type(key, "a string", value)
    if len(value) > limit:
        raise invalid(f"Invalid '{key}': string too long. Expected a string with maximum length {limit}, "
                      f"but got a string with length {len(value)} instead.", key, "string_above_max_length")
    no_nul(value, key)
    return value


def id_list(raw: object, path: str, limit: int) -> list[str]:
    """An array of at most ``limit`` non-empty id strings."""
    if not isinstance(raw, list):
        raise wrong_type(path, "an array", raw)
    if len(raw) > limit:
        raise invalid(f"Invalid '{path}': array too long. Expected an array with maximum length {limit}, "
                      f"but got an array with length {len(raw)} instead.", path, "array_above_max_length")
    out: list[str] = []
    for index, value in enumerate(raw):
        item = f"{path}[{index}]"
        if not isinstance(value, str):
            raise wrong_type(item, "a string", value)
        if not value:
            raise invalid(f"Invalid '{item}': empty string.", item, "empty_string")
        no_nul(value, item)
        out.append(value)
    return out
