"""Validate JSON objects against Anthropic's published OpenAPI schemas.

``validate_anthropic(obj, "Message")`` checks ``obj`` against
``#/components/schemas/Message`` of ``/work/shared/spec/anthropic-openapi.json``
(OpenAPI 3.1, so JSON Schema Draft 2020-12; ``discriminator`` is ignored, and the
few OpenAPI 3.0 leftovers ``nullable: true`` are rewritten as ``anyOf [..., null]``).
"""

from __future__ import annotations

import functools
import json
from typing import Any

import jsonschema
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from tests.spec_dir import SPEC_DIR

SPEC_PATH = SPEC_DIR / "anthropic-openapi.json"
_URI = "urn:switchyard:anthropic-openapi"


def _denull(node: Any) -> Any:
    if isinstance(node, list):
        return [_denull(v) for v in node]
    if not isinstance(node, dict):
        return node
    out = {k: _denull(v) for k, v in node.items() if k != "nullable"}
    if node.get("nullable") is True:
        return {"anyOf": [out, {"type": "null"}]}
    return out


# Properties the spec lists as required but nullable that Anthropic leaves out when they
# have no value (a text block without citations carries no ``citations`` key; strict
# clients such as the AI SDK refuse ``null`` there). Switchyard omits them too.
OMITTED_WHEN_NULL = {
    "ResponseTextBlock": ("citations",),
    "Message": ("container", "stop_details"),
    "Usage": ("cache_creation", "server_tool_use", "service_tier", "inference_geo"),
    "MessageDelta": ("container", "stop_details"),
    "MessageDeltaUsage": ("input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens",
                          "server_tool_use"),
}


def _relax(schemas: dict[str, Any]) -> None:
    for name, keys in OMITTED_WHEN_NULL.items():
        schema = schemas[name]
        schema["required"] = [k for k in schema.get("required", []) if k not in keys]


@functools.cache
def _registry() -> tuple[Registry, dict[str, Any]]:
    document = _denull(json.loads(SPEC_PATH.read_text()))
    _relax(document["components"]["schemas"])
    resource = Resource.from_contents(document, default_specification=DRAFT202012)
    return Registry().with_resource(_URI, resource), document["components"]["schemas"]


@functools.cache
def _validator(schema_name: str) -> jsonschema.Draft202012Validator:
    registry, schemas = _registry()
    if schema_name not in schemas:
        raise AssertionError(f"no schema named {schema_name!r} in {SPEC_PATH.name}")
    schema = {"$ref": f"{_URI}#/components/schemas/{schema_name}"}
    return jsonschema.Draft202012Validator(schema, registry=registry)


def validate_anthropic(obj: dict, schema_name: str) -> None:
    """Raise AssertionError listing every place where ``obj`` breaks the schema."""
    errors = sorted(_validator(schema_name).iter_errors(obj), key=lambda e: list(e.path))
    if errors:
        lines = [
            f"  at {'/'.join(str(p) for p in e.absolute_path) or '<root>'}: {e.message[:300]}"
            for e in errors
        ]
        raise AssertionError(f"object does not match {schema_name}:\n" + "\n".join(lines))


STREAM_EVENT_SCHEMAS = {
    "message_start": "MessageStartEvent",
    "content_block_start": "ContentBlockStartEvent",
    "content_block_delta": "ContentBlockDeltaEvent",
    "content_block_stop": "ContentBlockStopEvent",
    "message_delta": "MessageDeltaEvent",
    "message_stop": "MessageStopEvent",
    "error": "ErrorResponse",
}


def validate_anthropic_event(name: str, data: dict) -> None:
    """Validate one SSE event (``ping`` has no schema in the spec; only its shape is checked)."""
    if name == "ping":
        assert data == {"type": "ping"}, data
        return
    assert data.get("type") == name, f"event {name!r} carries type {data.get('type')!r}"
    validate_anthropic(data, STREAM_EVENT_SCHEMAS[name])
