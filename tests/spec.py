"""Validate JSON objects against OpenAI's published OpenAPI schemas.

``validate_openai(obj, "CreateChatCompletionResponse")`` checks ``obj`` against
``#/components/schemas/CreateChatCompletionResponse`` of
``/work/shared/spec/openai-openapi.yaml`` (JSON Schema Draft 2020-12; the spec's
OpenAPI 3.0 leftovers ``nullable: true`` are rewritten as ``anyOf [..., null]``).
Where the spec and the official SDK disagree the SDK wins: ``SDK_NULLABLE`` lists the
properties the SDK types as ``Optional`` that the spec does not mark nullable.
"""

from __future__ import annotations

import functools
from typing import Any

import jsonschema
import yaml
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from tests.spec_dir import SPEC_DIR

SPEC_PATH = SPEC_DIR / "openai-openapi.yaml"
_URI = "urn:switchyard:openai-openapi"
# Response.usage: the SDK's ``Optional[ResponseUsage]``; OpenAI streams ``null`` until the
# run ends, and Open Responses requires the key (nullable).
SDK_NULLABLE = {("Response", "usage")}


def _denull(node: Any) -> Any:
    if isinstance(node, list):
        return [_denull(v) for v in node]
    if not isinstance(node, dict):
        return node
    out = {k: _denull(v) for k, v in node.items() if k != "nullable"}
    if node.get("nullable") is True:
        return {"anyOf": [out, {"type": "null"}]}
    return out


@functools.cache
def _registry() -> tuple[Registry, dict[str, Any]]:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    document = _denull(yaml.load(SPEC_PATH.read_text(), Loader=loader))
    _sdk_nullable(document["components"]["schemas"])
    resource = Resource.from_contents(document, default_specification=DRAFT202012)
    return Registry().with_resource(_URI, resource), document["components"]["schemas"]


def _sdk_nullable(schemas: dict[str, Any]) -> None:
    for name, prop in SDK_NULLABLE:
        for part in [schemas[name], *schemas[name].get("allOf", [])]:
            props = part.get("properties", {})
            if prop in props:
                props[prop] = {"anyOf": [props[prop], {"type": "null"}]}


@functools.cache
def _validator(schema_name: str) -> jsonschema.Draft202012Validator:
    registry, schemas = _registry()
    if schema_name not in schemas:
        raise AssertionError(f"no schema named {schema_name!r} in {SPEC_PATH.name}")
    schema = {"$ref": f"{_URI}#/components/schemas/{schema_name}"}
    return jsonschema.Draft202012Validator(schema, registry=registry)


def validate_openai(obj: dict, schema_name: str) -> None:
    """Raise AssertionError listing every place where ``obj`` breaks the schema."""
    errors = sorted(_validator(schema_name).iter_errors(obj), key=lambda e: list(e.path))
    if errors:
        lines = [
            f"  at {'/'.join(str(p) for p in e.absolute_path) or '<root>'}: {e.message[:300]}"
            for e in errors
        ]
        raise AssertionError(f"object does not match {schema_name}:\n" + "\n".join(lines))
