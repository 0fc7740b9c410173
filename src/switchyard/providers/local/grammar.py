"""GBNF grammars for constrained decoding: JSON objects, JSON schemas, tool calls.

Schemas from real clients carry keywords the converter cannot express (``$schema``,
numeric bounds, huge length limits) or that would explode into enormous grammars;
``sanitize`` removes or caps them, and objects with ``properties`` default to no
extra properties (the output still validates against the original schema).
"""

from __future__ import annotations

import copy
import json
from typing import Any

from llama_cpp.llama_grammar import JSON_GBNF, json_schema_to_gbnf

from switchyard.core.request import Tool

_DROP = frozenset(
    {
        "$schema",
        "$id",
        "$comment",
        "examples",
        "default",
        "deprecated",
        "readOnly",
        "writeOnly",
        "minimum",
        "maximum",
        "exclusiveMinimum",
        "exclusiveMaximum",
        "multipleOf",
    }
)
_CAPS = {"maxLength": 512, "minLength": 64, "maxItems": 64, "minItems": 16, "maxProperties": 64, "minProperties": 16}
_KNOWN_FORMATS = frozenset({"date", "time", "date-time", "uuid"})
_SUBSCHEMA_MAPS = ("properties", "$defs", "definitions", "patternProperties")
_SUBSCHEMA_LISTS = ("anyOf", "oneOf", "allOf", "prefixItems")
_SUBSCHEMAS = ("items", "additionalProperties", "not", "contains")

JSON_OBJECT_GBNF = JSON_GBNF  # its root is an object


def sanitize(schema: Any, *, drop_patterns: bool = False) -> Any:
    if isinstance(schema, bool):
        return {} if schema else schema
    if not isinstance(schema, dict):
        return schema
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key in _DROP:
            continue
        if key in _CAPS and isinstance(value, int) and value > _CAPS[key]:
            continue
        if key == "format" and value not in _KNOWN_FORMATS:
            continue
        if key == "pattern" and drop_patterns:
            continue
        if key in _SUBSCHEMA_MAPS and isinstance(value, dict):
            out[key] = {k: sanitize(v, drop_patterns=drop_patterns) for k, v in value.items()}
        elif key in _SUBSCHEMA_LISTS and isinstance(value, list):
            out[key] = [sanitize(v, drop_patterns=drop_patterns) for v in value]
        elif key in _SUBSCHEMAS and isinstance(value, dict):
            out[key] = sanitize(value, drop_patterns=drop_patterns)
        else:
            out[key] = copy.deepcopy(value)
    if "properties" in out and "additionalProperties" not in out:
        out["additionalProperties"] = False
    return out


def schema_gbnf(schema: dict[str, Any], prop_order: list[str] | None = None) -> str:
    """A grammar for values matching ``schema``; falls back to any JSON object."""
    for drop_patterns in (False, True):
        try:
            cleaned = sanitize(schema, drop_patterns=drop_patterns)
            return json_schema_to_gbnf(json.dumps(cleaned), prop_order=prop_order)
        except Exception:
            continue
    return JSON_OBJECT_GBNF


def tool_call_schema(tools: list[Tool], name: str | None = None) -> dict[str, Any]:
    """``{"name": ..., "arguments": ...}`` for any of ``tools`` (or just ``name``)."""
    chosen = [t for t in tools if name is None or t.name == name]
    variants = [
        {
            "type": "object",
            "properties": {
                "name": {"const": t.name},
                "arguments": t.parameters or {"type": "object"},
            },
            "required": ["name", "arguments"],
            "additionalProperties": False,
        }
        for t in chosen
    ]
    return variants[0] if len(variants) == 1 else {"anyOf": variants}


def tool_call_gbnf(tools: list[Tool], name: str | None = None) -> str:
    return schema_gbnf(tool_call_schema(tools, name), prop_order=["name", "arguments"])
