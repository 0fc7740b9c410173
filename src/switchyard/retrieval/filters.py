"""Attribute filters and attributes in OpenAI's shape, validated into the store's
filter tree (``store.vector_store_chunks.Comparison`` / ``Compound``), which the
store compiles into the search query's ``WHERE``.

Filters: ``{"type": "eq"|"ne"|"gt"|"gte"|"lt"|"lte"|"in"|"nin", "key", "value"}``
and ``{"type": "and"|"or", "filters": [...]}``. Attributes: at most 16 keys of at
most 64 characters, values strings (≤ 512 characters), numbers or booleans."""

from __future__ import annotations

from typing import Any

from switchyard.core.errors import invalid
from switchyard.store.vector_store_chunks import AttributeFilter, Comparison, Compound

COMPARISONS = ("eq", "ne", "gt", "gte", "lt", "lte", "in", "nin")
COMPOUNDS = ("and", "or")
MAX_DEPTH = 8
MAX_ATTRIBUTES = 16
MAX_KEY = 64
MAX_VALUE = 512
_BAD_KEY_CHARS = ('"', "\\")


def _key(key: object, param: str) -> str:
    if not isinstance(key, str) or not key:
        raise invalid(f"'{param}' must be a non-empty string.", param)
    if len(key) > MAX_KEY:
        raise invalid(f"'{param}' is longer than {MAX_KEY} characters.", param)
    if any(char in key for char in _BAD_KEY_CHARS):
        raise invalid(f"'{param}' cannot contain '\"' or '\\'.", param)
    return key


def _scalar(value: object) -> bool:
    return isinstance(value, str | int | float) and not (isinstance(value, float) and value != value)


def _comparison(node: dict[str, Any], param: str) -> Comparison:
    kind = node["type"]
    key = _key(node.get("key"), f"{param}.key")
    if "value" not in node:
        raise invalid(f"Missing required parameter: '{param}.value'.", f"{param}.value")
    value = node["value"]
    if kind in ("in", "nin"):
        if not isinstance(value, list) or not value:
            raise invalid(f"'{param}.value' must be a non-empty array for '{kind}'.", f"{param}.value")
        for index, item in enumerate(value):
            if isinstance(item, bool) or not _scalar(item):
                raise invalid(f"'{param}.value[{index}]' must be a string or a number.", f"{param}.value[{index}]")
        return Comparison(kind, key, tuple(value))
    if not _scalar(value):
        raise invalid(f"'{param}.value' must be a string, a number or a boolean.", f"{param}.value")
    if isinstance(value, bool) and kind not in ("eq", "ne"):
        raise invalid(f"'{param}.value' cannot be a boolean for '{kind}'.", f"{param}.value")
    return Comparison(kind, key, value)


def _node(node: object, param: str, depth: int) -> AttributeFilter:
    if not isinstance(node, dict):
        raise invalid(f"'{param}' must be an object.", param)
    kind = node.get("type")
    if kind in COMPARISONS:
        return _comparison(node, param)
    if kind not in COMPOUNDS:
        allowed = ", ".join(COMPARISONS + COMPOUNDS)
        raise invalid(f"'{param}.type' must be one of {allowed}; got {kind!r}.", f"{param}.type")
    if depth >= MAX_DEPTH:
        raise invalid(f"'{param}' nests filters deeper than {MAX_DEPTH} levels.", param)
    children = node.get("filters")
    if not isinstance(children, list) or not children:
        raise invalid(f"'{param}.filters' must be a non-empty array.", f"{param}.filters")
    parsed = tuple(_node(child, f"{param}.filters[{i}]", depth + 1) for i, child in enumerate(children))
    return Compound(kind, parsed)


def parse_filters(filters: object, param: str = "filters") -> AttributeFilter | None:
    """The validated filter tree (None for None); a ``SwitchyardError`` (400) naming the
    offending field (e.g. ``filters.filters[1].value``) otherwise."""
    return None if filters is None else _node(filters, param, 0)


def validate_attributes(attributes: object, param: str = "attributes") -> dict[str, str | float | bool]:
    """Attributes as OpenAI allows them (None gives ``{}``); 400 naming the key otherwise."""
    if attributes is None:
        return {}
    if not isinstance(attributes, dict):
        raise invalid(f"'{param}' must be an object.", param)
    if len(attributes) > MAX_ATTRIBUTES:
        raise invalid(f"'{param}' can have at most {MAX_ATTRIBUTES} keys.", param)
    for key, value in attributes.items():
        _key(key, f"{param}.{key}" if isinstance(key, str) else param)
        if not _scalar(value) and not isinstance(value, bool):
            raise invalid(f"'{param}.{key}' must be a string, a number or a boolean.", f"{param}.{key}")
        if isinstance(value, str) and len(value) > MAX_VALUE:
            raise invalid(f"'{param}.{key}' is longer than {MAX_VALUE} characters.", f"{param}.{key}")
    return dict(attributes)

