"""JSON Schemas of wire objects, generated at test time from the official SDKs' types
(the ``openai`` and ``anthropic`` packages the test install brings), tightened where
the generated schema says less than the wire contract:

- a discriminated union (content blocks, output items, stream events...) accepts only
  the ``type`` values the SDK knows, and checks an object against the one member its
  ``type`` names (precise errors instead of "not valid under any of the given schemas");
- request parameters (``TypedDict``s, and response models sent back inside them)
  accept no key the SDK does not declare (the vendors answer 400 to unknown request
  fields), unless the SDK declares extra keys allowed;
- fields the vendor always sends, even as ``null``, are required (``ALWAYS_PRESENT``:
  the SDK declares them ``Optional[...] = None``, as it does truly optional ones).

Fields declared without a default are required as pydantic generates them; types are
checked strictly (JSON Schema does not coerce ``"1"`` to ``1`` as model validation may).
"""

from __future__ import annotations

from typing import Any

import jsonschema
from pydantic import TypeAdapter
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue
from pydantic_core import core_schema

Schema = dict[str, Any]
AlwaysPresent = dict[type, frozenset[str]]


def _generator(always_present: AlwaysPresent, request: bool) -> type[GenerateJsonSchema]:
    class Tightened(GenerateJsonSchema):
        def typed_dict_schema(self, schema: core_schema.TypedDictSchema) -> JsonSchemaValue:
            out = super().typed_dict_schema(schema)
            out.setdefault("additionalProperties", False)  # unless the SDK declares extra keys allowed
            return out

        def model_schema(self, schema: core_schema.ModelSchema) -> JsonSchemaValue:
            out = super().model_schema(schema)
            if request:  # a response model inside request parameters (content sent back)
                out["additionalProperties"] = False
            extra = always_present.get(schema["cls"], frozenset())
            missing = extra - set(out.get("properties", {}))
            assert not missing, f"{schema['cls'].__name__} has no fields {sorted(missing)}"
            if extra:
                out["required"] = sorted({*out.get("required", ()), *extra})
            return out

    return Tightened


def _resolve(node: Schema, defs: Schema) -> Schema:
    while "$ref" in node:
        node = defs[node["$ref"].rsplit("/", 1)[1]]
    return node


def _type_values(member: Schema, defs: Schema) -> list[Any] | None:
    """The values of ``type`` a union member accepts, if it is a tagged object."""
    target = _resolve(member, defs)
    if target.get("type") != "object" or "type" not in target.get("required", ()):
        return None
    tag = _resolve(target.get("properties", {}).get("type", {}), defs)
    if "const" in tag:
        return [tag["const"]]
    enum = tag.get("enum")
    return list(enum) if enum else None


def _closed_union(members: list[Schema], defs: Schema) -> Schema | None:
    """``anyOf`` over tagged objects as a dispatch on ``type`` (None if it is not one);
    members that share a tag (a request block type and its response twin) stay an
    ``anyOf`` among themselves."""
    tags = [_type_values(m, defs) for m in members]
    if len(members) < 2 or any(t is None for t in tags):
        return None
    by_tag: dict[Any, list[Schema]] = {}
    for member, values in zip(members, tags, strict=True):
        for value in values or ():
            by_tag.setdefault(value, []).append(member)
    return {
        "type": "object",
        "required": ["type"],
        "properties": {"type": {"enum": list(by_tag)}},
        "allOf": [
            {"if": {"required": ["type"], "properties": {"type": {"const": value}}},
             "then": group[0] if len(group) == 1 else {"anyOf": group}}
            for value, group in by_tag.items()
        ],
    }


def _close_unions(node: Any, defs: Schema) -> Any:
    if isinstance(node, list):
        return [_close_unions(v, defs) for v in node]
    if not isinstance(node, dict):
        return node
    out = {k: _close_unions(v, defs) for k, v in node.items()}
    members = out.get("anyOf")
    if members is not None:
        nullable = [m for m in members if m == {"type": "null"}]
        closed = _closed_union([m for m in members if m not in nullable], defs)
        if closed is not None and nullable:
            out["anyOf"] = [closed, *nullable]
        elif closed is not None:
            del out["anyOf"]
            out.setdefault("allOf", []).append(closed)
    return out


def validator(tp: Any, always_present: AlwaysPresent, *, request: bool = False) -> jsonschema.Draft202012Validator:
    """A validator of ``tp``'s tightened JSON Schema (slow to build: cache it). With
    ``request``, no object in it takes keys its type does not declare."""
    schema = TypeAdapter(tp).json_schema(schema_generator=_generator(always_present, request))
    schema = _close_unions(schema, schema.get("$defs", {}))
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def assert_valid(checker: jsonschema.Draft202012Validator, obj: Any, what: str) -> None:
    """Raise AssertionError listing every place where ``obj`` breaks the schema."""
    errors = sorted(checker.iter_errors(obj), key=lambda e: [str(p) for p in e.absolute_path])
    if errors:
        lines = [f"  at {'/'.join(str(p) for p in e.absolute_path) or '<root>'}: {e.message[:300]}"
                 for e in errors]
        raise AssertionError(f"object does not match {what}:\n" + "\n".join(lines))
