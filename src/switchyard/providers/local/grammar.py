"""GBNF grammars for constrained decoding: JSON objects, JSON schemas, tool calls.

Schemas from real clients carry keywords the converter cannot express (``$schema``,
numeric bounds, huge length limits) or that would explode into enormous grammars;
``sanitize`` removes or caps them, and objects with ``properties`` default to no
extra properties (the output still validates against the original schema).
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass, field
from typing import Any

from llama_cpp.llama_grammar import JSON_GBNF, json_schema_to_gbnf

from switchyard.core.request import Tool, ToolGrammar
from switchyard.providers.local.gbnf_tree import Untranslatable, gbnf_literal, write
from switchyard.providers.local.lark_gbnf import lark_to_gbnf
from switchyard.providers.local.regex_gbnf import regex_tree

_BOUNDS = frozenset({"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf"})
_DROP = frozenset(
    {"$schema", "$id", "$comment", "examples", "default", "deprecated", "readOnly", "writeOnly"} | _BOUNDS
)
# Kept, but llama.cpp's converter does not enforce them.
_IGNORED_BY_CONVERTER = frozenset(
    {"not", "uniqueItems", "contains", "minContains", "maxContains", "if", "then", "else",
     "dependentRequired", "dependentSchemas", "propertyNames", "unevaluatedProperties", "unevaluatedItems"}
)
_CAPS = {"maxLength": 512, "minLength": 64, "maxItems": 64, "minItems": 16, "maxProperties": 64, "minProperties": 16}
_KNOWN_FORMATS = frozenset({"date", "time", "date-time", "uuid"})
_SUBSCHEMA_MAPS = ("properties", "$defs", "definitions", "patternProperties")
_SUBSCHEMA_LISTS = ("anyOf", "oneOf", "allOf", "prefixItems")
_SUBSCHEMAS = ("items", "additionalProperties", "not", "contains")

JSON_OBJECT_GBNF = JSON_GBNF  # its root is an object


@dataclass(slots=True)
class SchemaGrammar:
    gbnf: str
    unenforced: list[str] = field(default_factory=list)  # keywords the grammar does not check


def sanitize(schema: Any, *, drop_patterns: bool = False, lost: set[str] | None = None) -> Any:
    """``lost`` collects the constraining keywords that were removed or will be ignored."""
    lost = set() if lost is None else lost
    if isinstance(schema, bool):
        return {} if schema else schema
    if not isinstance(schema, dict):
        return schema
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key in _DROP:
            if key in _BOUNDS:
                lost.add(key)
            continue
        if key in _IGNORED_BY_CONVERTER:
            lost.add(key)
        if key in _CAPS and isinstance(value, int) and value > _CAPS[key]:
            lost.add(key)
            continue
        if key == "format" and value not in _KNOWN_FORMATS:
            lost.add("format")
            continue
        if key == "pattern" and drop_patterns:
            lost.add("pattern")
            continue
        if key in _SUBSCHEMA_MAPS and isinstance(value, dict):
            out[key] = {k: sanitize(v, drop_patterns=drop_patterns, lost=lost) for k, v in value.items()}
        elif key in _SUBSCHEMA_LISTS and isinstance(value, list):
            out[key] = [sanitize(v, drop_patterns=drop_patterns, lost=lost) for v in value]
        elif key in _SUBSCHEMAS and isinstance(value, dict):
            out[key] = sanitize(value, drop_patterns=drop_patterns, lost=lost)
        else:
            out[key] = copy.deepcopy(value)
    if "properties" in out and "additionalProperties" not in out:
        out["additionalProperties"] = False
    return out


def schema_grammar(schema: dict[str, Any], prop_order: list[str] | None = None) -> SchemaGrammar:
    """A grammar for values matching ``schema`` and what it leaves unchecked; falls
    back to any JSON object."""
    for drop_patterns in (False, True):
        lost: set[str] = set()
        try:
            cleaned = sanitize(schema, drop_patterns=drop_patterns, lost=lost)
            return SchemaGrammar(json_schema_to_gbnf(json.dumps(cleaned), prop_order=prop_order), sorted(lost))
        except Exception:
            continue
    return SchemaGrammar(JSON_OBJECT_GBNF, ["the schema as a whole"])


def schema_gbnf(schema: dict[str, Any], prop_order: list[str] | None = None) -> str:
    return schema_grammar(schema, prop_order).gbnf


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
    """A tool call ``{"name": ..., "arguments": ...}``; a custom tool's ``input``
    follows its own grammar where that grammar translates to GBNF."""
    chosen = [t for t in tools if name is None or t.name == name]
    lines: list[str] = []
    roots: list[str] = []
    plain = []
    for i, tool in enumerate(chosen):
        custom = input_gbnf(tool.grammar, f"ct{i}") if tool.grammar is not None else None
        if isinstance(custom, Untranslatable) or custom is None:
            plain.append(tool)
            continue
        rules, start = custom
        lines.append(rules)
        roots.append(f"ct{i}-call")
        lines.append(f"ct{i}-call ::= " + " ".join(_custom_call(tool.name, start)) + "\n")
    if not roots:
        return schema_gbnf(tool_call_schema(plain), prop_order=["name", "arguments"])
    if plain:
        functions = schema_gbnf(tool_call_schema(plain), prop_order=["name", "arguments"])
        lines.append(_ROOT_WORD.sub("fn-call", functions).rstrip("\n") + "\n")
        roots.append("fn-call")
    lines.append('ct-ws ::= " "?\n')
    return f"root ::= {' | '.join(roots)}\n" + "".join(lines)


_ROOT_WORD = re.compile(r"(?<![\w-])root(?![\w-])")


def _custom_call(name: str, start: str) -> list[str]:
    return [
        gbnf_literal('{"name":'), "ct-ws", gbnf_literal(json.dumps(name, ensure_ascii=False) + ","), "ct-ws",
        gbnf_literal('"arguments":'), "ct-ws", gbnf_literal('{"input":'), "ct-ws", gbnf_literal('"'), start,
        gbnf_literal('"}}'),
    ]


def input_gbnf(grammar: ToolGrammar, prefix: str) -> tuple[str, str] | Untranslatable:
    """GBNF rules for a custom tool's input as JSON string content, and the start
    rule's name; or why the grammar cannot be translated."""
    try:
        if grammar.syntax == "regex":
            return write({"start": regex_tree(grammar.definition)}, "start", prefix=prefix, json_string=True)
        return lark_to_gbnf(grammar.definition, prefix=prefix, json_string=True)
    except Untranslatable as exc:
        return exc
    except RecursionError:
        return Untranslatable("the grammar nests too deeply")
