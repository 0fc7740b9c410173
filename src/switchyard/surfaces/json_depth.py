"""A ceiling on how deeply a request body may nest.

Bodies are stored and forwarded inside larger documents (a response body holds
the request's tools; an upstream request wraps the schemas again), and the JSON
encoder refuses documents past a fixed depth, so a body must leave room: one
nested deeper than ``MAX_DEPTH`` levels is refused with a 400 naming the field
where it goes too deep. The check runs in the encoder (C) and walks the body in
Python only to name the field of a body already known to be too deep."""

from __future__ import annotations

from typing import Any

import orjson

from switchyard.core.errors import SwitchyardError, invalid

MAX_DEPTH = 64
NAMED_LEVELS = 4  # how much of the path the error names


def _nested(levels: int) -> Any:
    value: Any = 0
    for _ in range(levels):
        value = [value]
    return value


def _encoder_limit() -> int:
    """The depth at which ``orjson.dumps`` refuses a document."""
    low, high = 1, 4096
    while low < high:
        mid = (low + high) // 2
        try:
            orjson.dumps(_nested(mid))
            low = mid + 1
        except orjson.JSONEncodeError:
            high = mid
    return low


_PADDING = _encoder_limit() - MAX_DEPTH - 1


def check_depth(body: Any, raw: bytes | None = None) -> None:
    """Raises a 400 naming the field if ``body`` nests deeper than ``MAX_DEPTH``.
    With the ``raw`` text it was parsed from, a body holding at most ``MAX_DEPTH``
    brackets in all cannot nest too deep, and is passed without re-encoding."""
    if raw is not None and raw.count(b"[") + raw.count(b"{") <= MAX_DEPTH:
        return
    padded = body
    for _ in range(_PADDING):
        padded = [padded]
    try:
        orjson.dumps(padded)
    except orjson.JSONEncodeError:
        raise _too_deep(_deep_path(body)) from None


def _deep_path(body: Any) -> list[str | int]:
    """The path to the first container nested past ``MAX_DEPTH``."""
    stack: list[tuple[Any, list[str | int]]] = [(body, [])]
    while stack:
        value, path = stack.pop()
        if len(path) >= MAX_DEPTH:
            return path
        items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
        for key, child in items:
            if isinstance(child, dict | list):
                stack.append((child, [*path, key]))
    return []


def _render(path: list[str | int]) -> str:
    out = ""
    for key in path[:NAMED_LEVELS]:
        out += f"[{key}]" if isinstance(key, int) else (f".{key}" if out else str(key))
    return out


def _too_deep(path: list[str | int]) -> SwitchyardError:
    field = _render(path) or None
    where = f"'{field}'" if field else "request body"
    return invalid(f"Invalid {where}: JSON nested more than {MAX_DEPTH} levels deep.", field,
                   "json_too_deep")
